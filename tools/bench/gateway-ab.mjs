#!/usr/bin/env node
// npm run bench -- gateway-ab [baseline]
// Compares two gateways by their CPU per classify request, at the same moment. Two builds:
//   cp -r dist/apps/gateway dist/gateway-baseline     # before the change (the copy stays under the repo, so it finds node_modules)
//   ...change the gateway...
//   npm run bench -- gateway-ab dist/gateway-baseline
// or two configurations of this tree's build, each side's environment over npm start's:
//   BENCH_ENV_B='{"LOG_LEVEL":"warn"}' npm run bench -- gateway-ab
// One tokenizer and one inference serve both gateways (A, the baseline or this build; B, this
// tree's build), each at npm start's configuration (LOG_LEVEL=info, auth and metrics on, its own
// PGlite) unless BENCH_ENV_A / BENCH_ENV_B (JSON objects) say otherwise. In every
// window both take autocannon's load at c=64 at the same time, and each one's CPU per request (its
// PGlite server's included) is read over that same window, so a slow or fast moment of a shared
// machine lands on both sides of B/A. The gateway benchmark reads its paths one after another and
// its single runs moved by 10-25% between windows on this 2-core machine: too much to see a change
// of a few percent. The gateway started second cost 3-5% more than the first in five runs of the
// same build on both sides (and 3% less with the order turned), so the pair runs twice: A started
// first for BENCH_WINDOWS windows, then a fresh pair with B first for as many.
// It prints every window and the median B/A; with BENCH_AB_NAME=<name> it also writes
// tools/bench/results/gateway-ab-<name>.json, a section of docs/benchmarks.md.
// Run the baseline against itself (both sides the same build) to see the spread of B/A here.
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { abSetup, median, middleIndex } from './_ab.mjs';
import { httpLoad } from './_load.mjs';
import { CLASSIFY_HEADERS, pgliteServerPid, startDataPlane, startGateway } from './_gateway-stack.mjs';
import { machine, writeResults } from './_report.mjs';
import { corpusTexts, cpuMeter, ensureBuilt, fmt, root, rssMb } from './_support.mjs';

const MODEL = process.env.BENCH_MODEL ?? 'spam';
const repository = process.env.MODEL_REPOSITORY ?? join(root, 'models');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const WARMUP_SECONDS = 10;
// Windows per start order (BENCH_WINDOWS): twice as many in all.
const { scripts, envs, name: NAME, windows: WINDOWS, describe } = abSetup('gateway-ab', 'gateway');

ensureBuilt('tokenizer', 'inference', 'gateway');
const services = [];
const stopAll = async () => {
  for (const s of services.splice(0).reverse()) await s.stop();
};
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));

try {
  const { tokGrpc, infGrpc } = await startDataPlane({ repository, logLevel: 'info', workers: availableParallelism(), backend: process.env.INFERENCE_BACKEND ?? 'auto', services });
  // Each side's windows; its CPU per classify in a window is the gateway's plus its PGlite server's.
  const windows = { A: [], B: [] };
  const cpuOf = (n) => windows[n].map((w) => w.cpuMsPerUnit.gateway + w.cpuMsPerUnit.gatewayDb);
  // Eight real SpamAssassin paragraphs (the first under 400 characters), one per connection.
  const bodies = corpusTexts(3000)
    .filter((t) => t.length < 400)
    .slice(0, 8)
    .map((text) => JSON.stringify({ texts: [text] }));
  const setting = `${2 * WINDOWS} windows of ${SECONDS} s, c=${CONCURRENCY} on each at once: ${WINDOWS} with A started first, ${WINDOWS} with B first, each pair after ${WARMUP_SECONDS} s of warm-up`;
  console.log(`${describe('A')}, ${describe('B')}; ${setting}`);
  const ratios = [];
  for (const order of [
    ['A', 'B'],
    ['B', 'A'],
  ]) {
    const pair = [];
    for (const name of order) {
      const g = await startGateway({ repository, logLevel: 'info', tokenizer: `127.0.0.1:${tokGrpc}`, inference: `127.0.0.1:${infGrpc}`, env: envs[name], script: scripts[name] });
      services.push(g);
      pair.push({ name, gateway: g, pids: [g.pid, pgliteServerPid(g.pid)], url: `${g.url}/v1/models/${MODEL}:classify` });
    }
    const loadPair = (seconds) => Promise.all(pair.map((p) => httpLoad({ url: p.url, headers: CLASSIFY_HEADERS, bodies, concurrency: CONCURRENCY, seconds })));
    await loadPair(WARMUP_SECONDS);
    for (let w = 0; w < WINDOWS; w++) {
      const meters = pair.map((p) => cpuMeter(p.pids));
      const results = await loadPair(SECONDS);
      pair.forEach((p, i) => {
        const r = results[i];
        const [gateway, gatewayDb] = meters[i]().map((ms) => ms / r.requests);
        windows[p.name].push({
          rps: r.rps,
          p50Ms: r.p50Ms,
          p99Ms: r.p99Ms,
          requests: r.requests,
          cpuMsPerUnit: { gateway, gatewayDb, loadgen: r.loadgen.cpuMs / r.requests },
          rssMb: { gateway: rssMb(p.pids[0]), gatewayDb: rssMb(p.pids[1]) },
        });
      });
      const k = ratios.length;
      const [a, b] = [cpuOf('A')[k], cpuOf('B')[k]];
      ratios.push(b / a);
      console.log(`window ${k + 1} (${order[0]} started first): A ${fmt(windows.A[k].rps, 0)} req/s, ${fmt(a, 3)} ms; B ${fmt(windows.B[k].rps, 0)} req/s, ${fmt(b, 3)} ms; B/A ${fmt(ratios[k], 3)}`);
    }
    for (const p of pair) {
      services.splice(services.indexOf(p.gateway), 1);
      await p.gateway.stop();
    }
  }
  const cpu = { A: cpuOf('A'), B: cpuOf('B') };
  for (const n of ['A', 'B']) console.log(`${n}: gateway CPU per classify (with its PGlite server), median ${fmt(median(cpu[n]), 3)} ms`);
  // How many windows B was the cheaper in: where nothing differs that is about half of them, so
  // nearly all of them says more than a median a few percent from 1.
  const cheaper = ratios.filter((r) => r < 1).length;
  const verdict = `B/A median ${fmt(median(ratios), 3)} (windows ${fmt(Math.min(...ratios), 3)} to ${fmt(Math.max(...ratios), 3)}); B the cheaper in ${cheaper} of ${ratios.length} windows`;
  console.log(verdict);
  if (NAME) {
    // Each side's row is its median window (the lower middle, by its CPU per request), whole, so a row's columns agree.
    const runs = ['A', 'B'].map((n) => ({
      concurrency: CONCURRENCY,
      path: describe(n),
      logLevel: envs[n].LOG_LEVEL ?? 'info',
      ...windows[n][middleIndex(cpu[n])],
      notes: `its median window of ${ratios.length}`,
    }));
    const file = writeResults(`gateway-ab-${NAME}`, {
      at: new Date().toISOString(),
      title: `\`npm run bench -- gateway-ab\`: two gateways on one tokenizer and inference, under load at the same moment (${setting}).`,
      machine: machine(undefined, { windows: 2 * WINDOWS, seconds: SECONDS }),
      description: ["CPU is the gateway's, with its PGlite server, per classify; B/A compares them window by window, so a slow moment of the machine falls on both sides."],
      runs,
      extra: [verdict, ...ratios.map((r, k) => `window ${k + 1}: A ${fmt(cpu.A[k], 3)} ms, B ${fmt(cpu.B[k], 3)} ms, B/A ${fmt(r, 3)}`)],
    });
    console.log(`results: ${relative(root, file)}, docs/benchmarks.md`);
  }
} finally {
  await stopAll();
}
