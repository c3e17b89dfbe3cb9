#!/usr/bin/env node
// npm run bench -- gateway
// Classify with one text per request at concurrency 1, 16 and 64, three ways:
//   in-process  tokenize with the native tokenizer and predict on the inference app's own
//               predict-worker threads (the same number), one text per call, in this
//               process: the limit the issue measures the gateway against;
//   data plane  Encode, then Predict with the ids, over gRPC straight to the tokenizer and
//               inference processes, no gateway;
//   gateway     POST /v1/models/spam:classify over HTTP keep-alive through the gateway,
//               in front of the same two processes.
// All use the same closed-loop load generator (N loops, each sends its next request when
// the previous answer arrives, like autocannon). The CPU columns say where the 2 cores go,
// which is what decides the ratios on a machine this size. Texts are real SpamAssassin
// paragraphs.
import http from 'node:http';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusTexts, cpuMeter, ensureBuilt, fmt, freePort, grpc, grpcPackage, percentile, root, rssMb, startPredictWorkers, startService, unary, writeResults } from './_support.mjs';

const MODEL = process.env.BENCH_MODEL ?? 'spam';
const repository = process.env.MODEL_REPOSITORY ?? join(root, 'models');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const BENCH_KEY = 'svb_bench_admin_key_0123456789abcdef';
const WORKERS = process.env.INFERENCE_WORKERS ?? String(availableParallelism());
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,16,64').split(',').map(Number);

const versions = readdirSync(join(repository, MODEL)).filter((d) => /^\d+$/.test(d)).map(Number).sort((a, b) => a - b);
const version = versions.at(-1);
const manifest = JSON.parse(readFileSync(join(repository, MODEL, String(version), 'servable.json'), 'utf8'));
const texts = corpusTexts(4000);

ensureBuilt('tokenizer', 'inference', 'gateway');
const [tokGrpc, tokHttp, infGrpc, infHttp, gwHttp, gwGrpc] = await Promise.all(Array.from({ length: 6 }, freePort));
// npm start's level by default (info: one access line per request); LOG_LEVEL=warn npm run bench -- gateway for the quiet line.
const LOG_LEVEL = process.env.LOG_LEVEL ?? 'info';
const common = { MODEL_REPOSITORY: repository, LOG_LEVEL };
const services = [];
const stopAll = async () => {
  for (const s of services.reverse()) await s.stop();
};
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));

try {
  services.push(
    await startService('tokenizer', { ...common, TOKENIZER_GRPC_URL: `127.0.0.1:${tokGrpc}`, TOKENIZER_HTTP_PORT: String(tokHttp), TOKENIZER_HTTP_HOST: '127.0.0.1' }, `http://127.0.0.1:${tokHttp}/readyz`),
  );
  services.push(
    await startService(
      'inference',
      { ...common, INFERENCE_GRPC_URL: `127.0.0.1:${infGrpc}`, INFERENCE_HTTP_PORT: String(infHttp), INFERENCE_HTTP_HOST: '127.0.0.1', INFERENCE_WORKERS: WORKERS },
      `http://127.0.0.1:${infHttp}/readyz`,
    ),
  );
  services.push(
    await startService(
      'gateway',
      {
        ...common,
        GATEWAY_HTTP_PORT: String(gwHttp),
        GATEWAY_HTTP_HOST: '127.0.0.1',
        GATEWAY_GRPC_URL: `127.0.0.1:${gwGrpc}`,
        TOKENIZER_URL: `127.0.0.1:${tokGrpc}`,
        INFERENCE_URL: `127.0.0.1:${infGrpc}`,
        // A control plane of its own (never the one npm start uses), and a real key check on every request.
        SERVABLE_DATA_DIR: mkdtempSync(join(tmpdir(), 'servable-bench-')),
        SERVABLE_ADMIN_KEY: BENCH_KEY,
      },
      `http://127.0.0.1:${gwHttp}/readyz`,
    ),
  );

  const pkg = grpcPackage(['servable/tokenizer/v1/tokenizer.proto', 'servable/inference/v1/inference.proto']);
  const options = { 'grpc.max_receive_message_length': 32 << 20 };
  const tokenizer = new pkg.servable.tokenizer.v1.TokenizerService(`127.0.0.1:${tokGrpc}`, grpc.credentials.createInsecure(), options);
  const inference = new pkg.servable.inference.v1.InferenceService(`127.0.0.1:${infGrpc}`, grpc.credentials.createInsecure(), options);

  // In-process: the same tokenizer file and model version, the same number of worker threads.
  const { Tokenizer } = createRequire(join(root, 'package.json'))('tokenizers');
  const nativeTokenizer = Tokenizer.fromFile(join(repository, 'tokenizers', `${manifest.tokenizer.hash}.json`));
  nativeTokenizer.setTruncation(manifest.max_length, { direction: 'right' });
  const workers = await startPredictWorkers(Number(WORKERS), {
    backend: process.env.INFERENCE_BACKEND ?? 'auto',
    key: 'bench',
    dir: join(repository, MODEL, String(version)),
    manifest,
    warmup: { batchSizes: [1], lengths: [16, manifest.max_length] },
  });
  const inProcess = async (i) => {
    const ids = Int32Array.from((await nativeTokenizer.encode(texts[i % texts.length])).getIds());
    await workers.run(ids, 1, ids.length);
  };

  const baseline = async (i) => {
    const encoded = await unary(tokenizer, 'encode', { tokenizerHash: manifest.tokenizer.hash, texts: [texts[i % texts.length]], maxLength: manifest.max_length });
    await unary(inference, 'predict', { modelSpec: { name: MODEL, version }, inputs: { input_ids: { ragged: encoded.ids } } });
  };

  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const gateway = (i) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ texts: [texts[i % texts.length]] });
      const req = http.request(
        { host: '127.0.0.1', port: gwHttp, path: `/v1/models/${MODEL}:classify`, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${BENCH_KEY}` } },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`gateway answered ${res.statusCode}`))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });


  /** Closed loop: `concurrency` loops for `seconds`; latencies in ms, CPU ms per request of each process. */
  async function runFor(seconds, concurrency, task) {
    const latencies = [];
    const cpuUsed = cpuMeter(services.map((s) => s.child.pid));
    let i = Math.floor(Math.random() * texts.length);
    const until = performance.now() + seconds * 1000;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < until) {
          const start = performance.now();
          await task(i++);
          latencies.push(performance.now() - start);
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = cpuUsed().map((v) => v / latencies.length);
    return { rps: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpu };
  }

  // Every text in the tokenizer's cache first, so that no run pays misses an earlier run did not
  // (the cache key is the same for both paths): both measure warm-cache tokenization.
  for (let i = 0; i < texts.length; i += 32) {
    await unary(tokenizer, 'encode', { tokenizerHash: manifest.tokenizer.hash, texts: texts.slice(i, i + 32), maxLength: manifest.max_length });
  }
  // Warm every path (connections, JIT).
  await runFor(1, 8, inProcess);
  await runFor(1, 8, baseline);
  await runFor(1, 8, gateway);

  console.log(`LOG_LEVEL=${LOG_LEVEL}, DOWNSTREAM_MAX_IN_FLIGHT=${process.env.DOWNSTREAM_MAX_IN_FLIGHT ?? 'default'}`);
  console.log(`model ${MODEL} v${version}, one SpamAssassin paragraph per request (4,000 of them, all in the tokenizer's cache), ${WORKERS} inference worker thread(s), ${SECONDS} s per run, ${availableParallelism()} cores (shared by the three services and this load generator)`);
  console.log('in-process = native tokenizer + predict-worker threads in this process (loadgen column: all of it); data plane = Encode + Predict over gRPC, no gateway');
  console.log('');
  console.log('conc  path          req/s     p50 ms    p99 ms    CPU ms per request: tokenizer inference   gateway   loadgen  total');
  const rows = [];
  for (const c of CONCURRENCY) {
    const row = { c, i: await runFor(SECONDS, c, inProcess), b: await runFor(SECONDS, c, baseline), g: await runFor(SECONDS, c, gateway) };
    rows.push(row);
    for (const [name, r] of [['in-process', row.i], ['data plane', row.b], ['gateway', row.g]]) {
      const cpu = r.cpu.map((v) => fmt(v, 2).padStart(9)).join(' ');
      const total = fmt(r.cpu.reduce((a, b) => a + b, 0), 2).padStart(6);
      console.log(`${String(c).padStart(4)}  ${name.padEnd(11)} ${fmt(r.rps, 0).padStart(7)}  ${fmt(r.p50, 2).padStart(9)} ${fmt(r.p99, 2).padStart(9)}                       ${cpu} ${total}`);
    }
  }
  console.log('');
  const rss = Object.fromEntries(['tokenizer', 'inference', 'gateway'].map((n, k) => [n, rssMb(services[k].child.pid)]));
  console.log(`RSS after the runs (MB): ${Object.entries(rss).map(([n, mb]) => `${n} ${fmt(mb, 0)}`).join(', ')}`);
  console.log('');
  writeResults('gateway', {
    logLevel: LOG_LEVEL,
    downstreamMaxInFlight: process.env.DOWNSTREAM_MAX_IN_FLIGHT ?? 'default',
    workers: Number(WORKERS),
    seconds: SECONDS,
    cores: availableParallelism(),
    rssMb: rss,
    runs: rows.flatMap(({ c, i, b, g }) =>
      [['in-process', i], ['data plane', b], ['gateway', g]].map(([path, r]) => ({
        concurrency: c,
        path,
        rps: r.rps,
        p50Ms: r.p50,
        p99Ms: r.p99,
        cpuMsPerRequest: { tokenizer: r.cpu[0], inference: r.cpu[1], gateway: r.cpu[2], loadgen: r.cpu[3] },
      })),
    ),
  });
  const pct = (a, b) => `${fmt((a.rps / b.rps) * 100, 0)}%`;
  const plus = (a, b) => `+${fmt(a.p50 - b.p50, 2)} ms`;
  for (const { c, i, b, g } of rows) {
    console.log(`c=${String(c).padEnd(3)} gateway vs in-process: throughput ${pct(g, i)}, p50 ${plus(g, i)}   gateway vs data plane: ${pct(g, b)}, p50 ${plus(g, b)}   data plane vs in-process: ${pct(b, i)}`);
  }
  console.log('');
  console.log('targets (against in-process, as the issue sets them; against the data plane in brackets)');
  for (const { c, i, b, g } of rows) {
    if (c === 1) console.log(`  c=1  p50 <= in-process + 3 ms: ${plus(g, i)}, ${g.p50 - i.p50 <= 3 ? 'met' : 'NOT met'}   (data plane ${plus(g, b)})`);
    if (c === 64) console.log(`  c=64 throughput >= 70% of in-process: ${pct(g, i)}, ${g.rps / i.rps >= 0.7 ? 'met' : 'NOT met'}   (data plane ${pct(g, b)}; the data plane alone reaches ${pct(b, i)})`);
  }
  await workers.close();
  tokenizer.close();
  inference.close();
  agent.destroy();
} finally {
  await stopAll();
}
