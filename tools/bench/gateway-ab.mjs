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
// of a few percent. It prints every window and the median B/A; with BENCH_AB_NAME=<name> it also
// writes tools/bench/results/gateway-ab-<name>.json, a section of docs/benchmarks.md.
// Run the baseline against itself (both sides the same build) to see the spread of B/A here.
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { httpLoad } from './_load.mjs';
import { CLASSIFY_HEADERS, pgliteServerPid, startDataPlane, startGateway } from './_gateway-stack.mjs';
import { machine, writeResults } from './_report.mjs';
import { corpusTexts, cpuMeter, ensureBuilt, fmt, root, rssMb } from './_support.mjs';

const MODEL = process.env.BENCH_MODEL ?? 'spam';
const repository = process.env.MODEL_REPOSITORY ?? join(root, 'models');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WINDOWS = Number(process.env.BENCH_WINDOWS ?? 9);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const WARMUP_SECONDS = 10;
const NAME = process.env.BENCH_AB_NAME;

const usage = 'usage: npm run bench -- gateway-ab [baseline build: a copy of dist/apps/gateway under the repository], with BENCH_ENV_A / BENCH_ENV_B (JSON) to set either side\'s environment';
/** A side's environment overrides: a JSON object of strings. */
function sideEnv(name) {
  const raw = process.env[name];
  if (!raw) return {};
  let env;
  try {
    env = JSON.parse(raw);
  } catch {
    throw new Error(`${name} is not JSON: ${raw}`);
  }
  if (typeof env !== 'object' || env === null || Array.isArray(env) || Object.values(env).some((v) => typeof v !== 'string')) {
    throw new Error(`${name} must be a JSON object of strings, as an environment is: ${raw}`);
  }
  return env;
}
const envs = { A: sideEnv('BENCH_ENV_A'), B: sideEnv('BENCH_ENV_B') };
const baselineArg = process.argv[2];
let baseline;
if (baselineArg) {
  const dir = resolve(baselineArg);
  baseline = statSync(dir, { throwIfNoEntry: false })?.isDirectory() ? join(dir, 'main.js') : dir;
  if (!existsSync(baseline)) throw new Error(`${baselineArg} holds no main.js. ${usage}`);
  // Node resolves the bundle's packages from node_modules in a folder above it.
  if (relative(root, baseline).startsWith('..')) throw new Error(`${baselineArg} is outside the repository, where the build cannot find node_modules. ${usage}`);
} else if (JSON.stringify(envs.A) === JSON.stringify(envs.B)) {
  throw new Error(`nothing to compare: no baseline build, and the same environment on both sides. ${usage}`);
}
if (NAME !== undefined && !/^[a-z0-9][a-z0-9-]*$/.test(NAME)) throw new Error(`BENCH_AB_NAME names a results file: lower-case letters, digits and dashes, not ${JSON.stringify(NAME)}`);
if (!Number.isInteger(WINDOWS) || WINDOWS < 1 || WINDOWS % 2 === 0) throw new Error(`BENCH_WINDOWS must be an odd count, so the median is one window's, not ${process.env.BENCH_WINDOWS}`);

ensureBuilt('tokenizer', 'inference', 'gateway');
const services = [];
const stopAll = async () => {
  for (const s of services.splice(0).reverse()) await s.stop();
};
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

try {
  const { tokGrpc, infGrpc } = await startDataPlane({ repository, logLevel: 'info', workers: availableParallelism(), backend: process.env.INFERENCE_BACKEND ?? 'auto', services });
  const sides = [];
  for (const [name, script] of [
    ['A', baseline],
    ['B', undefined],
  ]) {
    const g = await startGateway({ repository, logLevel: 'info', tokenizer: `127.0.0.1:${tokGrpc}`, inference: `127.0.0.1:${infGrpc}`, env: envs[name], script });
    services.push(g);
    sides.push({ name, script, pids: [g.pid, pgliteServerPid(g.pid)], url: `${g.url}/v1/models/${MODEL}:classify`, cpu: [], windows: [] });
  }
  // The gateway benchmark's texts: real SpamAssassin paragraphs, one per connection.
  const bodies = corpusTexts(3000)
    .filter((t) => t.length < 400)
    .slice(0, 8)
    .map((text) => JSON.stringify({ texts: [text] }));
  const loadBoth = (seconds) => Promise.all(sides.map((s) => httpLoad({ url: s.url, headers: CLASSIFY_HEADERS, bodies, concurrency: CONCURRENCY, seconds })));
  const describe = (name, script) => `${name} ${script ? relative(root, script) : 'dist/apps/gateway'}${Object.keys(envs[name]).length ? ` with ${JSON.stringify(envs[name])}` : ''}`;
  const setting = `${WINDOWS} windows of ${SECONDS} s, c=${CONCURRENCY} on each at once, after ${WARMUP_SECONDS} s of warm-up`;
  console.log(`${describe('A', baseline)}, ${describe('B')}; ${setting}`);
  await loadBoth(WARMUP_SECONDS);
  const ratios = [];
  for (let w = 0; w < WINDOWS; w++) {
    const meters = sides.map((s) => cpuMeter(s.pids));
    const results = await loadBoth(SECONDS);
    sides.forEach((s, i) => {
      const r = results[i];
      const [gateway, gatewayDb] = meters[i]().map((ms) => ms / r.requests);
      s.cpu.push(gateway + gatewayDb);
      s.windows.push({ rps: r.rps, p50Ms: r.p50Ms, p99Ms: r.p99Ms, requests: r.requests, cpuMsPerUnit: { gateway, gatewayDb, loadgen: r.loadgen.cpuMs / r.requests } });
    });
    ratios.push(sides[1].cpu[w] / sides[0].cpu[w]);
    console.log(`window ${w + 1}: ${sides.map((s, i) => `${s.name} ${fmt(results[i].rps, 0)} req/s, ${fmt(s.cpu[w], 3)} ms`).join('; ')}; B/A ${fmt(ratios[w], 3)}`);
  }
  for (const s of sides) console.log(`${s.name}: gateway CPU per classify (with its PGlite server), median ${fmt(median(s.cpu), 3)} ms`);
  const verdict = `B/A median ${fmt(median(ratios), 3)} (windows ${fmt(Math.min(...ratios), 3)} to ${fmt(Math.max(...ratios), 3)}); B is cheaper where below 1`;
  console.log(verdict);
  if (NAME) {
    // Each side's row is its median window (by its CPU per request), whole, so a row's columns agree.
    const runs = sides.map((s) => {
      const w = s.windows[s.cpu.indexOf(median(s.cpu))];
      return { concurrency: CONCURRENCY, path: describe(s.name, s.script), logLevel: envs[s.name].LOG_LEVEL ?? 'info', ...w, rssMb: { gateway: rssMb(s.pids[0]), gatewayDb: rssMb(s.pids[1]) }, notes: `its median window of ${WINDOWS}` };
    });
    const file = writeResults(`gateway-ab-${NAME}`, {
      at: new Date().toISOString(),
      title: `\`npm run bench -- gateway-ab\`: two gateways on one tokenizer and inference, under load at the same moment (${setting}).`,
      machine: machine(undefined, { windows: WINDOWS, seconds: SECONDS }),
      description: ["CPU is the gateway's, with its PGlite server, per classify; B/A compares them window by window, so a slow moment of the machine falls on both sides."],
      runs,
      extra: [verdict, ...ratios.map((r, w) => `window ${w + 1}: A ${fmt(sides[0].cpu[w], 3)} ms, B ${fmt(sides[1].cpu[w], 3)} ms, B/A ${fmt(r, 3)}`)],
    });
    console.log(`results: ${relative(root, file)}, docs/benchmarks.md`);
  }
} finally {
  await stopAll();
}
