// Load generation: h2load for gRPC, autocannon for HTTP, and a closed loop in this process for the
// in-process baselines. Each returns the same shape: requests, throughput, p50/p99, and the load
// generator's own CPU and RSS, so the report can put every process side by side.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { grpcMessage } from './_grpc-frame.mjs';
import { childrenCpuMs, grpc, peakRssMb, percentile, rssMb } from './_support.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** Fails early, with the package to install, where h2load is missing. */
export function requireH2load() {
  const r = spawnSync('h2load', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error('h2load is not installed: it generates the gRPC load (Debian: apt-get install nghttp2-client; .ci/run installs it)');
  }
  return r.stdout.split('\n')[0];
}

const latencyStats = (ms) => ({ p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99) });

/**
 * h2load against one gRPC method, `concurrency` streams in flight for `seconds`. h2load posts one
 * fixed body per process, so each distinct request (a frame from _grpc-frame.mjs) gets a process
 * of its own, and the streams are spread over them: min(concurrency, frames.length) processes,
 * one HTTP/2 connection each. Latencies come from h2load's per-request log. h2load judges a
 * request by its HTTP status only and never reads gRPC trailers, so grpcLoad() below checks the
 * gRPC status separately.
 */
export async function h2load({ address, path, frames, concurrency, seconds }) {
  const dir = mkdtempSync(join(tmpdir(), 'servable-h2load-'));
  const count = Math.min(concurrency, frames.length);
  const cpuBefore = childrenCpuMs();
  let peakRss = 0;
  try {
    const runs = Array.from({ length: count }, (_, j) => {
      const streams = Math.floor(concurrency / count) + (j < concurrency % count ? 1 : 0);
      const body = join(dir, `body-${j}.bin`);
      writeFileSync(body, frames[j]);
      const log = join(dir, `requests-${j}.tsv`);
      const args = ['-D', String(seconds), '-c', '1', '-m', String(streams), '-d', body, '-H', 'content-type: application/grpc', '-H', 'te: trailers', `--log-file=${log}`, `http://${address}${path}`];
      const child = spawn('h2load', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const done = new Promise((resolve, reject) => {
        child.once('error', reject);
        // 'close', not 'exit': only then has all of its output been read.
        child.once('close', (code) => (code === 0 ? resolve({ out, log }) : reject(new Error(`h2load exited with ${code}: ${out.trim().split('\n').slice(-3).join(' | ')}`))));
      });
      return { child, done };
    });
    // h2load's RSS is flat after start-up; VmHWM read while it runs is its peak.
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, runs.reduce((s, r) => s + (peakRssMb(r.child.pid) || 0), 0));
    }, 200);
    const finished = await Promise.all(runs.map((r) => r.done)).finally(() => clearInterval(sampler));
    // Every h2load has exited and been reaped, so their CPU is in this process's children's times.
    const cpuMs = childrenCpuMs() - cpuBefore;
    const latencies = [];
    const requests = [];
    let failed = 0;
    let first = Infinity;
    let last = 0;
    for (const { out, log } of finished) {
      const summary = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
      if (!summary) throw new Error(`h2load printed no summary: ${out.slice(0, 300)}`);
      failed += Number(summary[5]) + Number(summary[6]) + Number(summary[7]);
      for (const line of readFileSync(log, 'utf8').split('\n')) {
        if (!line) continue;
        const [start, status, elapsed] = line.split('\t').map(Number);
        if (status !== 200) {
          failed++;
          continue;
        }
        latencies.push(elapsed / 1000);
        requests.push({ startUs: start, endUs: start + elapsed });
        first = Math.min(first, start);
        last = Math.max(last, start + elapsed);
      }
    }
    const wall = (last - first) / 1e6;
    return {
      requests: latencies.length,
      failed,
      rps: latencies.length / wall,
      ...latencyStats(latencies),
      loadgen: { cpuMs, rssMb: peakRss, processes: count },
      samples: requests,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Prometheus counter `metric` summed per `code` label, from a service's /metrics. */
export async function callsByCode(metricsUrl, metric) {
  const text = await (await fetch(metricsUrl)).text();
  const counts = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    const code = /code="([^"]*)"/.exec(line)?.[1] ?? '';
    counts[code] = (counts[code] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return counts;
}

/** Sends each frame's message through grpc-js, the way a real client would, and throws unless every answer is grpc-status 0 (OK). */
export async function checkGrpcOk(address, path, frames) {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  try {
    for (const frame of frames) {
      await new Promise((resolve, reject) =>
        client.makeUnaryRequest(path, (m) => m, (b) => b, grpcMessage(frame), (err) =>
          err ? reject(new Error(`${path} at ${address} answered ${grpc.status[err.code] ?? err.code}: ${err.details}`)) : resolve(),
        ),
      );
    }
  } finally {
    client.close();
  }
}

/**
 * h2load() with the gRPC status checked both ways: grpc-js calls with the very bytes h2load sends
 * must answer OK before and after the run, and where the service counts its calls by result code
 * (`metrics`: { url, name }), no call of the run may have ended in anything but OK (or CANCELLED,
 * for the streams h2load resets at the end).
 */
export async function grpcLoad({ address, path, frames, concurrency, seconds, metrics }) {
  const used = frames.slice(0, Math.min(concurrency, frames.length));
  await checkGrpcOk(address, path, used);
  const before = metrics ? await callsByCode(metrics.url, metrics.name) : undefined;
  const r = await h2load({ address, path, frames: used, concurrency, seconds });
  if (r.failed > 0) throw new Error(`h2load: ${r.failed} of ${r.requests + r.failed} requests to ${path} failed at the HTTP/2 level`);
  if (metrics) {
    const after = await callsByCode(metrics.url, metrics.name);
    const delta = Object.fromEntries(Object.entries(after).map(([code, n]) => [code, n - (before[code] ?? 0)]).filter(([, n]) => n > 0));
    // When its time is up, h2load resets the streams still open: at most one CANCELLED per stream is its doing.
    const bad = Object.entries(delta).filter(([code, n]) => code !== 'OK' && !(code === 'CANCELLED' && n <= concurrency));
    if (bad.length > 0) throw new Error(`${path}: calls during the run ended in ${bad.map(([c, n]) => `${n} x ${c}`).join(', ')}`);
    // h2load may stop with calls still in flight, which the service then finishes: at least, not exactly.
    if ((delta.OK ?? 0) < r.requests) throw new Error(`${path}: h2load saw ${r.requests} answers, the service counted ${delta.OK ?? 0} OK calls`);
  }
  await checkGrpcOk(address, path, used);
  return r;
}

/**
 * autocannon (HTTP/1.1 keep-alive) from a child process of its own (_autocannon-run.mjs), so its CPU
 * and memory are its own. Connection k sends bodies[k % bodies.length] every time.
 */
export async function httpLoad({ url, headers, bodies, concurrency, seconds }) {
  const child = spawn(process.execPath, [join(here, '_autocannon-run.mjs'), JSON.stringify({ url, headers, bodies, connections: concurrency, seconds })], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise((resolve, reject) => {
    child.once('error', reject);
    // 'close', not 'exit': only then has all of its stdout been read.
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`autocannon run exited with ${code}`);
  const r = JSON.parse(out);
  if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) {
    throw new Error(`autocannon: ${r.non2xx} non-2xx answers (${JSON.stringify(r.statusCodes)}), ${r.errors} errors, ${r.timeouts} timeouts against ${url}`);
  }
  return { requests: r.requests, failed: 0, rps: r.rps, p50Ms: r.p50Ms, p99Ms: r.p99Ms, loadgen: { cpuMs: r.cpuMs, rssMb: r.rssMb, processes: 1 } };
}

/**
 * The gateway's hop to inference as a load: one PredictStream on `client` (a grpc-js
 * InferenceService client) with `concurrency` items in flight for `seconds`. Slot k sends
 * requests[k % requests.length]; an item is sent again as soon as it is answered, and the items
 * answered in one message leave again in one message, as the requests that reach a gateway in one
 * turn of its event loop do (apps/gateway/src/downstream/grpc-item-stream.ts). Latency is per
 * item. Any item answered with a code other than OK, or an id not in flight, fails the run. The
 * load generator is the calling process, which may run other streams at the same time, so no CPU
 * of its own is returned.
 */
export function streamLoad({ client, requests, concurrency, seconds, timeoutMs = 30_000 }) {
  return new Promise((resolve, reject) => {
    const call = client.PredictStream();
    const inFlight = new Map();
    const latencies = [];
    let nextId = 1;
    let open = concurrency;
    let last = 0;
    const t0 = performance.now();
    const until = t0 + seconds * 1000;
    const fail = (err) => {
      call.cancel();
      reject(err);
    };
    const send = (slots) => {
      const items = slots.map((slot) => {
        const id = nextId;
        nextId = nextId === 0xffffffff ? 1 : nextId + 1;
        inFlight.set(id, { slot, start: performance.now() });
        return { id, request: requests[slot % requests.length], timeoutMs, requestId: '', traceparent: '' };
      });
      call.write({ items });
    };
    call.on('data', (message) => {
      const again = [];
      for (const r of message.results) {
        const item = inFlight.get(r.id);
        if (!item) return fail(new Error(`PredictStream answered item ${r.id}, which was not in flight`));
        if (r.code !== 0) return fail(new Error(`a PredictStream item ended in ${grpc.status[r.code] ?? r.code}: ${r.message}`));
        inFlight.delete(r.id);
        last = performance.now();
        latencies.push(last - item.start);
        if (last < until) again.push(item.slot);
        else open--;
      }
      if (again.length > 0) send(again);
      if (open === 0) {
        call.end();
        const elapsed = (last - t0) / 1000;
        resolve({ requests: latencies.length, failed: 0, rps: latencies.length / elapsed, ...latencyStats(latencies) });
      }
    });
    call.on('error', (err) => {
      if (open > 0) reject(new Error(`PredictStream failed: ${err.message}`));
    });
    send(Array.from({ length: concurrency }, (_, k) => k));
  });
}

/**
 * The in-process baselines: `concurrency` loops in this process for `seconds`, each calling
 * task(loop) again as soon as its previous call resolves (a closed loop, like h2load's streams and
 * autocannon's connections). CPU is this whole process's (every thread: the native tokenizer's
 * pool, the predict workers); there is no separate load generator to subtract.
 */
export async function closedLoop({ concurrency, seconds, task }) {
  const latencies = [];
  const cpu0 = process.cpuUsage();
  const until = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      while (performance.now() < until) {
        const start = performance.now();
        await task(loop);
        latencies.push(performance.now() - start);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    requests: latencies.length,
    failed: 0,
    rps: latencies.length / elapsed,
    ...latencyStats(latencies),
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssMb: rssMb(process.pid),
  };
}

const WARMUP_WINDOW_SECONDS = Number(process.env.BENCH_WARMUP_WINDOW_S ?? 2);
const WARMUP_MAX_SECONDS = Number(process.env.BENCH_WARMUP_MAX_S ?? 60);

/**
 * Warms one path at one concurrency until it holds steady: `run(seconds)` in windows of
 * BENCH_WARMUP_WINDOW_S (2 s) until the last three windows' throughputs lie within 5% of their
 * mean (perf_analyzer's stability rule, which allows 10%), for at most BENCH_WARMUP_MAX_S (60 s).
 * A fixed second of warm-up is not enough for a Node service: V8 keeps compiling its hot paths
 * for thousands of requests. Measured on the gateway at c=1: a fifth of its CPU went to V8's
 * optimising compiler a minute after start, and over 60 s of c=1 traffic its p50 fell from 13.5 to
 * about 4 ms and its CPU per request from 5.9 to 1.9 ms. A run taken before that measures the
 * compiler, not the service. Each concurrency warms on its own because each takes paths of its
 * own (a lone request is never merged with others downstream, for one).
 * Returns how long it took and whether it settled; the caller reports both.
 */
export async function warmUntilStable(run, { windowSeconds = WARMUP_WINDOW_SECONDS, maxSeconds = WARMUP_MAX_SECONDS, tolerance = 0.05 } = {}) {
  const rates = [];
  let seconds = 0;
  while (seconds < maxSeconds) {
    rates.push((await run(windowSeconds)).rps);
    seconds += windowSeconds;
    const last = rates.slice(-3);
    const mean = last.reduce((a, b) => a + b, 0) / last.length;
    if (last.length === 3 && last.every((r) => Math.abs(r - mean) <= tolerance * mean)) return { seconds, stable: true };
  }
  return { seconds, stable: false };
}

/**
 * Seconds of load at the top concurrency every path gets once, before any warm-up by window
 * (BENCH_WARMUP_S). Stability alone can stop too early: V8 tiers code up in steps, and at c=1
 * the gateway held within 5% for three windows at 100-170 req/s before climbing to 250-300.
 * At the top concurrency the same code runs ten times as often, so it is compiled sooner.
 */
export const FIRST_WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_S ?? 20);

/** How a run's warm-up went, for its notes. */
export const warmupNote = (w) => `warmed ${w.seconds} s${w.stable ? '' : ' (not steady within the limit)'}`;

/** One benchmark row at steady state: `measure(seconds)` warmed until stable, then run for `seconds`, its notes saying how the warm-up went. */
export async function measureSteady(measure, seconds) {
  const w = await warmUntilStable(measure);
  const r = await measure(seconds);
  return { ...r, notes: [r.notes, warmupNote(w)].filter(Boolean).join('; ') };
}

/** How every benchmark warms its paths, for its description (`top`: its highest concurrency). */
export const warmupDescription = (top) =>
  `each after ${FIRST_WARMUP_SECONDS} s of its path at c=${top} and a warm-up of its own path at its own concurrency in ${WARMUP_WINDOW_SECONDS}-s windows until three in a row agree on throughput within 5% (at most ${WARMUP_MAX_SECONDS} s; the notes say how long)`;

/**
 * `count` items spread over the length distribution, the median first: item k sits at length
 * quantile (k + 0.5) / count, and the one at the median replaces its neighbour just above. A run at
 * concurrency 1 sends the first only, a run at concurrency ≥ count sends all of them equally often.
 */
export function lengthQuantiles(items, lengthOf, count = 8) {
  const sorted = [...items].sort((a, b) => lengthOf(a) - lengthOf(b));
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const picks = Array.from({ length: count }, (_, k) => at((k + 0.5) / count));
  const above = Math.floor(count / 2);
  return [at(0.5), ...picks.slice(0, above), ...picks.slice(above + 1)];
}

/** Totals of Prometheus series by metric name (every label set summed), from a service's /metrics. */
export async function metricTotals(metricsUrl, names) {
  const text = await (await fetch(metricsUrl)).text();
  const totals = Object.fromEntries(names.map((n) => [n, 0]));
  for (const line of text.split('\n')) {
    const name = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line)?.[1];
    if (name && name in totals) totals[name] += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return totals;
}
