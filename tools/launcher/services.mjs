// Starting Servable's processes from dist, waiting for them and stopping them: the one
// implementation behind `npm start` (tools/launcher/start.mjs), the e2e suite
// (e2e/src/support/platform.ts) and the benchmarks (tools/bench/_support.mjs).
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * V8 flags an app runs with wherever it runs (npm start, e2e, benchmarks; the Dockerfile's CMD and
 * the Nx serve target repeat them).
 *
 * The gateway: a young generation of up to 64 MB per semi-space instead of V8's 16. Under load
 * every request allocates (parsed body, Nest's context, promises, the response), and the 64
 * requests in flight at c=64 are what each scavenge copies; four times the space means a quarter
 * of the scavenges for the same live set. Scavenges were 8-10% of the gateway's CPU samples
 * (perf). Measured with two gateways on one data plane, c=64 windows alternating, 5 pairs each:
 * CPU per classify 0.291 against 0.335 ms (lower in 5 of 5 pairs); 128 MB gave 0.265 against
 * 0.304 ms but 406 MB of RSS under load against 238, where 64 MB costs 267. Settled idle RSS is
 * the same (109-113 MB): start-up's allocations grow the space (164 against 148 MB) until V8's
 * memory reducer gives it back, 30-70 s after ready when sampled (tools/bench/gateway.mjs reads
 * idle RSS after 2 minutes for that reason).
 *
 * Inference: garbage collection on the thread that made the garbage (`--single-threaded-gc`), not
 * on V8's shared helper threads. Inference runs three isolates (gRPC, two predict workers), and
 * each one's parallel scavenges and concurrent marking called the helpers, at normal priority, onto
 * the same two cores, also for a worker loading a model at nice 19 (the helpers ran 0.17 of a core
 * during reloads against 0.13 between them; per-thread CPU from /proc). Measured with two
 * inference processes, c=64 windows alternating: CPU per request lower in 9 of 10 pairs (0.649
 * against 0.718 and 0.566 against 0.604 ms, medians of 5), throughput higher in 8 of 10; reloading
 * v2 under v1 traffic, v1's p99 during loads was lower in 5 of 6 pairs and every reload shorter.
 * The gRPC thread does its own scavenges now (0.170 against 0.154 ms per request in one run, the
 * same in the other), and c=1 and c=16 did not move beyond noise. The same flag on the gateway
 * (one isolate) changed nothing (0.358 against 0.360 ms), so it is not set there.
 */
export const APP_NODE_ARGS = { gateway: ['--max-semi-space-size=64'], inference: ['--single-threaded-gc'] };

/** dist/apps/<app>/main.js: what `npm start`, e2e and the benchmarks run. */
export const appMain = (app, root = ROOT) => join(root, 'dist/apps', app, 'main.js');

/**
 * Builds `projects` through Nx (`nx run-many -t build`): what is unchanged comes from Nx's
 * cache in a few seconds. Throws when the build fails.
 */
export function buildApps(projects, { root = ROOT } = {}) {
  const r = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '-p', ...projects, '--outputStyle=static'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`building ${projects.join(', ')} failed`);
}

const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };

/** A pino JSON line becomes "LEVEL context: message"; anything else is passed through. */
export function renderLogLine(line) {
  if (!line.startsWith('{')) return line;
  try {
    const entry = JSON.parse(line);
    const { level, msg, context, time, pid, hostname, service, name, ...rest } = entry;
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    return `${LEVELS[level] ?? level} ${context ? `${context}: ` : ''}${msg ?? ''}${extra}`;
  } catch {
    return line;
  }
}

/** "[name]   " padded to one width, in an ANSI color when stdout is a terminal. */
export function logPrefix(name, color) {
  const text = `[${name}]`.padEnd(12);
  return color !== undefined && process.stdout.isTTY ? `\x1b[${color}m${text}\x1b[0m` : text;
}

/**
 * One service process started from dist as a user would. It can be started again after it
 * stopped, with the same env and ports, as an orchestrator restarts a container.
 */
export class Service {
  #child;
  #exit;

  /** @param {import('./services.d.ts').ServiceOptions} options */
  constructor(options) {
    this.options = options;
  }

  get name() {
    return this.options.name;
  }

  get child() {
    return this.#child;
  }

  get pid() {
    return this.#child?.pid;
  }

  /** True from spawn() until the process has exited. */
  get running() {
    return !!this.#child && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Spawns the process and resolves once it is ready. */
  async start(timeoutMs) {
    this.spawn();
    await this.waitReady(timeoutMs);
  }

  /** Spawns the process without waiting for it to be ready (to time its start-up, or start several at once). */
  spawn() {
    if (this.running) throw new Error(`${this.name} is already running`);
    const { app, script, root = ROOT, nodeArgs = [], env = {}, detached = false, output = 'inherit' } = this.options;
    const child = spawn(process.execPath, [...(APP_NODE_ARGS[app] ?? []), ...nodeArgs, script ?? appMain(app, root)], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', output === 'inherit' ? 'inherit' : output === 'stderr' ? 'ignore' : 'pipe', output === 'inherit' || output === 'stderr' ? 'inherit' : 'pipe'],
      // Its own process group, so a signal reaches everything it spawned.
      detached,
    });
    if (typeof output === 'object' && 'file' in output) {
      const log = createWriteStream(output.file, { flags: 'a' });
      child.stdout.pipe(log);
      child.stderr.pipe(log);
    } else if (typeof output === 'object') {
      const render = output.render ?? renderLogLine;
      for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (line) => output.line(render(line)));
    }
    this.#child = child;
    this.#exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves once `readyUrl` answers 200; throws if the process exits first or `timeoutMs` passes. */
  async waitReady(timeoutMs = 180_000) {
    const { readyUrl } = this.options;
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) {
        const how = this.#child ? await this.#exit : undefined;
        throw new Error(`${this.name} exited (${how ? `code ${how.code}, signal ${how.signal}` : 'never started'})${this.#seeLog()}`);
      }
      try {
        if ((await fetch(readyUrl)).status === 200) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > until) throw new Error(`${this.name} not ready after ${timeoutMs} ms${this.#seeLog()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  #seeLog() {
    const { output } = this.options;
    return typeof output === 'object' && 'file' in output ? `; see ${output.file}` : '';
  }

  /** Sends `signal` to the process (its group when detached); a no-op once it has exited. */
  signal(signal) {
    const pid = this.#child?.pid;
    if (!this.running || pid === undefined) return;
    try {
      process.kill(this.options.detached ? -pid : pid, signal);
    } catch {
      /* already gone */
    }
  }

  /** Resolves with how the process ended (at once if it already has); undefined if it never started. */
  exited() {
    return this.#exit ?? Promise.resolve(undefined);
  }

  /**
   * Sends `signal` (SIGTERM: with the service's shutdown grace; SIGINT: without it), then
   * SIGKILL if it has not exited after `graceMs`; resolves with how it ended.
   */
  async stop({ signal = 'SIGTERM', graceMs = 5_000 } = {}) {
    if (!this.running) return this.exited();
    this.signal(signal);
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    const how = await this.exited();
    clearTimeout(timer);
    return how;
  }

  /** SIGKILL (kill -9: no shutdown code runs); resolves once it has exited. */
  async kill() {
    this.signal('SIGKILL');
    return this.exited();
  }
}
