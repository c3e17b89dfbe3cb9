/** One request of a load run: when it started and ended, and its HTTP status or the network error's code. */
export interface Outcome {
  worker: number;
  startedAt: number;
  endedAt: number;
  status?: number;
  /** The network error's code (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET...) when there was no response. */
  error?: string;
}

export interface LoadOptions {
  /** Requests in flight at once: each worker sends its next request when the last one is answered. */
  concurrency: number;
  /** Upper bound on the run; `signal` may end it sooner. */
  durationMs: number;
  signal?: AbortSignal;
  /** Sends one request; the body is read to the end so a keep-alive connection is reused. */
  send: (worker: number) => Promise<Response>;
  /** A single request that takes longer is recorded as error TIMEOUT (so a hang cannot stall the run). */
  requestTimeoutMs?: number;
}

export interface LoadResult {
  outcomes: Outcome[];
  /** Outcomes so far, while the run is still going. */
  total: number;
  byStatus: Record<string, number>;
}

/**
 * A closed-loop load: `concurrency` workers, each sending requests back to back
 * (Node's fetch keeps connections alive, so a worker keeps its connection).
 * Every outcome is kept with its times, so a test can say which requests were
 * in flight at a moment (a kill, a SIGTERM).
 */
export function startLoad(options: LoadOptions): { done: Promise<LoadResult>; outcomes: Outcome[] } {
  const outcomes: Outcome[] = [];
  const end = Date.now() + options.durationMs;
  const over = () => Date.now() >= end || !!options.signal?.aborted;
  const worker = async (id: number) => {
    while (!over()) {
      const startedAt = Date.now();
      try {
        const answered = options.send(id).then(async (res) => {
          await res.text();
          return res;
        });
        const res = await Promise.race([answered, timeout(options.requestTimeoutMs ?? 15_000)]);
        outcomes.push({ worker: id, startedAt, endedAt: Date.now(), status: res.status });
      } catch (err) {
        outcomes.push({ worker: id, startedAt, endedAt: Date.now(), error: errorCode(err) });
        // A server that is gone refuses at once: do not spin a core on it.
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  };
  const done = Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i))).then(() => summarise(outcomes));
  return { done, outcomes };
}

export function summarise(outcomes: Outcome[]): LoadResult {
  const byStatus: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.status !== undefined ? String(o.status) : (o.error ?? 'unknown');
    byStatus[key] = (byStatus[key] ?? 0) + 1;
  }
  return { outcomes, total: outcomes.length, byStatus };
}

/** fetch() rejects with TypeError('fetch failed'); the socket's code is on its cause (or the cause's cause). */
export function errorCode(err: unknown): string {
  let e = err as { code?: string; cause?: unknown; name?: string; message?: string } | undefined;
  for (let depth = 0; e && depth < 4; depth++) {
    if (e.code) return e.code;
    if (!e.cause) break;
    e = e.cause as typeof e;
  }
  return e?.name === 'TimeoutError' ? 'TIMEOUT' : (e?.message ?? String(err));
}

function timeout(ms: number): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'TIMEOUT' })), ms).unref());
}
