#!/usr/bin/env node
// npm run bench -- inference-ab [baseline]
// Compares two inference services by the CPU of the thread that runs their gRPC server and
// batching, per Predict, at the same moment, under the load the gateway puts on them: one
// PredictStream each, 64 items in flight, the items answered in one message sent again in one
// message (streamLoad in _load.mjs). Two builds:
//   cp -r dist/apps/inference dist/inference-baseline     # before the change (under the repo, so it finds node_modules)
//   ...change inference...
//   npm run bench -- inference-ab dist/inference-baseline
// or two configurations of this tree's build: BENCH_ENV_B='{"BATCH_TIMEOUT_MICROS":"1000"}'.
// Both serve spam v2 with npm start's settings otherwise (LOG_LEVEL=info, a predict worker per
// core). Windows run both loads at once, so a slow or fast moment of a shared machine falls on
// both sides of B/A. On the 2-core machine this was written on, one build against itself read B/A
// 0.985-1.093 per window (median 1.027, B the cheaper in 3 of 10), where windows run one after
// the other read 0.83-1.42 per pair; a change worth 5-7% read 0.905-1.069 (median 0.935, 8 of 10).
// As in gateway-ab, a pair started A first runs BENCH_WINDOWS windows, then a fresh pair started
// B first as many. The judged figure is the gRPC thread's (the target of issue 16 is on it); the
// whole process's is printed beside it. BENCH_AB_NAME=<name> also writes
// tools/bench/results/inference-ab-<name>.json, a section of docs/benchmarks.md.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { abSetup, median, middleIndex } from './_ab.mjs';
import { lengthQuantiles, streamLoad } from './_load.mjs';
import { machine, writeResults } from './_report.mjs';
import { corpusTexts, cpuMeter, ensureBuilt, fmt, freePort, grpc, grpcPackage, root, rssMb, startService } from './_support.mjs';

const MODEL = process.env.BENCH_MODEL ?? 'spam';
const VERSION = 2;
const repository = process.env.MODEL_REPOSITORY ?? join(root, 'models');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const WARMUP_SECONDS = 10;
const { scripts, envs, name: NAME, windows: WINDOWS, describe } = abSetup('inference-ab', 'inference');

ensureBuilt('inference');
const services = [];
const stopAll = async () => {
  for (const s of services.splice(0).reverse()) await s.stop();
};
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));

// Eight real rows at spread-out lengths, through the version's own tokenizer, as the inference benchmark sends.
const { Tokenizer } = createRequire(join(root, 'package.json'))('tokenizers');
const manifest = JSON.parse(readFileSync(join(repository, MODEL, String(VERSION), 'servable.json'), 'utf8'));
const tokenizer = Tokenizer.fromFile(join(repository, 'tokenizers', `${manifest.tokenizer.hash}.json`));
tokenizer.setTruncation(manifest.max_length, { direction: 'right' });
const rows = lengthQuantiles((await tokenizer.encodeBatch(corpusTexts(3000))).map((e) => Int32Array.from(e.getIds())), (r) => r.length);
const requests = rows.map((row) => ({
  modelSpec: { name: MODEL, version: String(VERSION) },
  inputs: { input_ids: { ragged: { dtype: 'DATA_TYPE_INT32', values: Buffer.from(row.buffer, row.byteOffset, row.byteLength), rowLengths: [row.length] } } },
}));
const pkg = grpcPackage(['servable/inference/v1/inference.proto']);

async function startSide(side) {
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const s = await startService(
    'inference',
    {
      MODEL_REPOSITORY: repository,
      LOG_LEVEL: 'info',
      MODEL_VERSION_POLICY: `specific:${MODEL}=${VERSION}`,
      INFERENCE_GRPC_URL: `127.0.0.1:${grpcPort}`,
      INFERENCE_HTTP_PORT: String(httpPort),
      INFERENCE_HTTP_HOST: '127.0.0.1',
      INFERENCE_WORKERS: String(availableParallelism()),
      INFERENCE_BACKEND: process.env.INFERENCE_BACKEND ?? 'auto',
      ...envs[side],
    },
    `http://127.0.0.1:${httpPort}/readyz`,
    { script: scripts[side] },
  );
  const client = new pkg.servable.inference.v1.InferenceService(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
  const handle = {
    side,
    pid: s.child.pid,
    client,
    stop: async () => {
      client.close();
      await s.stop();
    },
  };
  services.push(handle);
  return handle;
}

try {
  const windows = { A: [], B: [] };
  const mainOf = (n) => windows[n].map((w) => w.cpuMsPerUnit.inferenceMain);
  const setting = `${2 * WINDOWS} windows of ${SECONDS} s, ${CONCURRENCY} PredictStream items in flight on each at once: ${WINDOWS} with A started first, ${WINDOWS} with B first, each pair after ${WARMUP_SECONDS} s of warm-up`;
  console.log(`${describe('A')}, ${describe('B')}; ${rows.length} rows of ${rows.map((r) => r.length).join(', ')} ids; ${setting}`);
  const ratios = [];
  const processRatios = [];
  for (const order of [
    ['A', 'B'],
    ['B', 'A'],
  ]) {
    const pair = [];
    for (const side of order) pair.push(await startSide(side));
    const loadPair = (seconds) => Promise.all(pair.map((p) => streamLoad({ client: p.client, requests, concurrency: CONCURRENCY, seconds })));
    await loadPair(WARMUP_SECONDS);
    for (let w = 0; w < WINDOWS; w++) {
      const meters = pair.map((p) => cpuMeter([p.pid, { pid: p.pid, tid: p.pid }]));
      const results = await loadPair(SECONDS);
      pair.forEach((p, i) => {
        const r = results[i];
        const [inference, inferenceMain] = meters[i]().map((ms) => ms / r.requests);
        windows[p.side].push({ rps: r.rps, p50Ms: r.p50Ms, p99Ms: r.p99Ms, requests: r.requests, cpuMsPerUnit: { inference, inferenceMain }, rssMb: { inference: rssMb(p.pid) } });
      });
      const k = ratios.length;
      const [a, b] = [windows.A[k], windows.B[k]];
      ratios.push(b.cpuMsPerUnit.inferenceMain / a.cpuMsPerUnit.inferenceMain);
      processRatios.push(b.cpuMsPerUnit.inference / a.cpuMsPerUnit.inference);
      console.log(
        `window ${k + 1} (${order[0]} started first): A ${fmt(a.rps, 0)} items/s, gRPC thread ${fmt(a.cpuMsPerUnit.inferenceMain, 4)} ms; B ${fmt(b.rps, 0)} items/s, ${fmt(b.cpuMsPerUnit.inferenceMain, 4)} ms; B/A ${fmt(ratios[k], 3)} (whole process ${fmt(processRatios[k], 3)})`,
      );
    }
    for (const p of pair) {
      services.splice(services.indexOf(p), 1);
      await p.stop();
    }
  }
  const main = { A: mainOf('A'), B: mainOf('B') };
  for (const n of ['A', 'B']) console.log(`${n}: gRPC thread CPU per item, median ${fmt(median(main[n]), 4)} ms`);
  // As in gateway-ab: where nothing differs B is the cheaper in about half of the windows.
  const cheaper = ratios.filter((r) => r < 1).length;
  const verdict = `gRPC thread B/A median ${fmt(median(ratios), 3)} (windows ${fmt(Math.min(...ratios), 3)} to ${fmt(Math.max(...ratios), 3)}); B the cheaper in ${cheaper} of ${ratios.length} windows; the whole process B/A median ${fmt(median(processRatios), 3)}`;
  console.log(verdict);
  if (NAME) {
    // Each side's row is its median window by the gRPC thread's CPU, whole, so a row's columns agree.
    const runs = ['A', 'B'].map((n) => ({ concurrency: CONCURRENCY, path: describe(n), logLevel: envs[n].LOG_LEVEL ?? 'info', ...windows[n][middleIndex(main[n])], notes: `its median window of ${ratios.length}` }));
    const file = writeResults(`inference-ab-${NAME}`, {
      at: new Date().toISOString(),
      title: `\`npm run bench -- inference-ab\`: two inference services under the gateway's PredictStream load at the same moment (${setting}).`,
      machine: machine(undefined, { windows: 2 * WINDOWS, seconds: SECONDS }),
      description: ["CPU per item (one Predict of one row): inference's whole process, and its gRPC main thread; B/A compares the gRPC threads window by window."],
      runs,
      extra: [verdict, ...ratios.map((r, k) => `window ${k + 1}: A ${fmt(main.A[k], 4)} ms, B ${fmt(main.B[k], 4)} ms, B/A ${fmt(r, 3)}`)],
    });
    console.log(`results: ${relative(root, file)}, docs/benchmarks.md`);
  }
} finally {
  await stopAll();
}
