import type { SpanContext } from '@servable/observability';
import { ErrorCode, ServableError } from '@servable/contracts';
import { paddedSizeOf, type BatchingOptions } from './batching-options';
import { systemClock, type Clock } from './clock';

/** One batch as the executor receives it: unpadded rows, padded by the executor to `seqLength`. */
export interface PreparedBatch {
  rows: Int32Array[];
  /** Rows the tensor gets: rows.length, or the next allowed batch size (extra rows are all padding). */
  paddedBatchSize: number;
  /** The longest row of this batch: padding goes this far and no further. */
  seqLength: number;
  /** Padded positions / all positions of the tensor. */
  paddingRatio: number;
}

export interface BatchRunResult<O> {
  /** One output per row of the batch, in the batch's row order. */
  outputs: O[];
  computeUs: number;
}

/** Runs batches; usually a worker pool shared by every version's batcher. */
export interface BatchExecutor<O> {
  /** True when a batch handed over now would start at once. While false, rows keep queueing and batches grow. */
  hasCapacity(): boolean;
  /** How many batches could start at once; what is queued is spread over them. */
  idleSlots?(): number;
  execute(batch: PreparedBatch): Promise<BatchRunResult<O>>;
}

export interface BatchTiming {
  queueUs: number;
  computeUs: number;
  /** Mean rows per batch over the batches this request ran in. */
  batchSize: number;
  paddingRatio: number;
  batches: number;
}

export interface BatchedResult<O> {
  outputs: O[];
  timing: BatchTiming;
}

/** The part of AbortSignal the batcher uses; a gRPC call's cancellation provides it without AbortController's cost. */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface SubmitOptions {
  /** Absolute deadline on the batcher's clock (ms). */
  deadline?: number;
  /** Aborting (a cancelled call) drops the request's queued rows and rejects with CANCELLED. */
  signal?: CancelSignal;
  /** The request's span when tracing: the span of each batch it runs in links to it. */
  span?: SpanContext;
}

export interface BatchStats {
  size: number;
  paddedSize: number;
  seqLength: number;
  paddingRatio: number;
  /** Queue time of each row of the batch (ms). */
  queueMs: number[];
  /** Spans of the requests in the batch (those that gave one). */
  requestSpans: SpanContext[];
}

export interface DynamicBatcherHooks {
  onBatch?(stats: BatchStats): void;
  onBatchDone?(stats: BatchStats, computeUs: number): void;
  onBatchFailed?(stats: BatchStats, error: Error): void;
}

/**
 * When more than one batch is queued, a batch stops growing once it would be
 * more than this much padding: padded positions cost as much compute as real
 * ones, so a smaller, tighter batch beats a large ragged one.
 */
const MAX_GROUPED_PADDING = 0.25;
/** ...but a batch always gets this many rows if they fit, so per-call overhead stays amortised. */
const MIN_GROUPED_ROWS = 4;

interface PendingRequest<O> {
  outputs: O[];
  remaining: number;
  queued: number;
  enqueuedAt: number;
  lastDispatchAt: number;
  computeUs: number;
  batchSizes: number[];
  paddingRatios: number[];
  span?: SpanContext;
  settled: boolean;
  resolve(result: BatchedResult<O>): void;
  reject(error: Error): void;
  cleanup(): void;
}

interface QueuedRow<O> {
  request: PendingRequest<O>;
  index: number;
  ids: Int32Array;
  enqueuedAt: number;
}

/**
 * The dynamic batcher of one model version. A batch is only cut when the
 * executor can start it: while every worker is busy, rows keep arriving and
 * the next batch grows, which keeps throughput up under load. When a worker
 * is free, a partial batch waits up to batch_timeout for more rows, unless
 * nothing of this version is running at all (then it goes at once, so an idle
 * service adds no latency).
 */
export class DynamicBatcher<O> {
  private queue: QueuedRow<O>[] = [];
  private timer: unknown;
  private timerAt = Infinity;
  private inFlight = 0;
  private closed = false;
  private drained?: () => void;
  private readonly maxRows: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly options: BatchingOptions,
    private readonly executor: BatchExecutor<O>,
    private readonly hooks: DynamicBatcherHooks = {},
    private readonly clock: Clock = systemClock,
  ) {
    const allowed = options.allowedBatchSizes?.length ? Math.max(...options.allowedBatchSizes) : Infinity;
    this.maxRows = Math.max(1, Math.min(options.maxBatchSize, allowed));
    this.timeoutMs = options.batchTimeoutMicros / 1000;
  }

  /** Rows waiting for a batch. */
  get queueDepth(): number {
    return this.queue.length;
  }

  get batchesInFlight(): number {
    return this.inFlight;
  }

  submit(rows: Int32Array[], options: SubmitOptions = {}): Promise<BatchedResult<O>> {
    if (this.closed) return Promise.reject(new ServableError(ErrorCode.UNAVAILABLE, 'this model version is unloading'));
    if (rows.length === 0) return Promise.resolve({ outputs: [], timing: { queueUs: 0, computeUs: 0, batchSize: 0, paddingRatio: 0, batches: 0 } });
    if (this.queue.length + rows.length > this.options.maxQueueSize) {
      return Promise.reject(
        ServableError.exhausted(
          `batch queue full: ${this.queue.length} rows queued, ${rows.length} more would exceed max_queue_size ${this.options.maxQueueSize}`,
        ),
      );
    }
    const now = this.clock.now();
    if (options.deadline !== undefined && options.deadline <= now) {
      return Promise.reject(new ServableError(ErrorCode.DEADLINE_EXCEEDED, 'deadline passed before the request was queued'));
    }
    if (options.signal?.aborted) return Promise.reject(new ServableError(ErrorCode.CANCELLED, 'call cancelled'));

    return new Promise<BatchedResult<O>>((resolve, reject) => {
      let deadlineTimer: unknown;
      const onAbort = () => this.fail(request, new ServableError(ErrorCode.CANCELLED, 'call cancelled while queued'));
      const request: PendingRequest<O> = {
        outputs: new Array<O>(rows.length),
        remaining: rows.length,
        queued: rows.length,
        enqueuedAt: now,
        lastDispatchAt: now,
        computeUs: 0,
        batchSizes: [],
        paddingRatios: [],
        span: options.span,
        settled: false,
        resolve,
        reject,
        cleanup: () => {
          if (deadlineTimer !== undefined) this.clock.clearTimer(deadlineTimer);
          options.signal?.removeEventListener('abort', onAbort);
        },
      };
      if (options.deadline !== undefined) {
        deadlineTimer = this.clock.setTimer(
          () => this.fail(request, new ServableError(ErrorCode.DEADLINE_EXCEEDED, 'deadline passed while the request was queued')),
          options.deadline - now,
        );
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      rows.forEach((ids, index) => this.queue.push({ request, index, ids, enqueuedAt: now }));
      this.pump();
    });
  }

  /** Cuts and starts batches while the executor has room. Call it whenever capacity frees up. */
  pump(): void {
    let cutting = false;
    while (this.queue.length > 0 && this.executor.hasCapacity()) {
      const now = this.clock.now();
      if (!cutting) {
        const { bounded } = this.select(this.maxRows);
        const waited = now - this.queue[0].enqueuedAt;
        // Nothing of this version running means the service is idle here: waiting for company would
        // only add latency. Once a batch runs, a partial batch waits up to batch_timeout to fill.
        const idle = this.inFlight === 0;
        if (!bounded && !this.closed && !idle && waited < this.timeoutMs) {
          this.armTimer(this.queue[0].enqueuedAt + this.timeoutMs);
          return;
        }
        cutting = true;
      }
      // With several workers free, what is queued is spread over them rather than handed to one
      // while the others idle: the rows finish sooner and every core works.
      const slots = Math.max(1, this.executor.idleSlots?.() ?? 1);
      const { rows } = this.select(Math.min(this.maxRows, Math.ceil(this.queue.length / slots)));
      this.dispatch(rows, now);
    }
    if (this.queue.length === 0) this.disarmTimer();
  }

  /** Stops taking requests, runs everything queued without waiting for timeouts, and resolves when idle. */
  drain(): Promise<void> {
    this.closed = true;
    this.disarmTimer();
    this.pump();
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => (this.drained = resolve));
  }

  /**
   * Picks the next batch. When everything queued fits in one batch without much
   * padding, it is taken in arrival order. Otherwise (more than one batch
   * queued, or rows of very different lengths) the oldest row anchors the batch,
   * so nothing starves, and the rows closest to its length fill it.
   */
  private select(limit: number): { rows: QueuedRow<O>[]; bounded: boolean } {
    const maxTokens = this.options.maxBatchTokens;
    if (this.queue.length <= limit) {
      const longest = this.queue.reduce((m, r) => Math.max(m, r.ids.length, 1), 1);
      const real = this.queue.reduce((s, r) => s + Math.max(1, r.ids.length), 0);
      const padded = longest * this.queue.length;
      const tight = this.queue.length <= MIN_GROUPED_ROWS || 1 - real / padded <= MAX_GROUPED_PADDING;
      // Exactly one full batch queued counts as bounded: it cannot grow, so waiting buys nothing.
      if (padded <= maxTokens && tight) return { rows: this.queue.slice(), bounded: this.queue.length === this.maxRows };
    }
    const anchor = this.queue[0];
    const len = (r: QueuedRow<O>) => Math.max(1, r.ids.length);
    const target = len(anchor);
    const candidates = this.queue
      .slice(1)
      .map((row, order) => ({ row, order }))
      .sort((a, b) => Math.abs(len(a.row) - target) - Math.abs(len(b.row) - target) || a.order - b.order);
    const chosen = [anchor];
    let longest = target;
    let real = target;
    for (const { row } of candidates) {
      if (chosen.length >= limit) break;
      const next = Math.max(longest, len(row));
      const padded = next * (chosen.length + 1);
      // A row that would push the batch over the token budget is skipped; a shorter one may still fit.
      if (padded > maxTokens) continue;
      // Rows are taken closest-length first, so once one would pad the batch past the bound, the
      // rest would too: they wait for a batch of their own length instead.
      if (chosen.length >= MIN_GROUPED_ROWS && 1 - (real + len(row)) / padded > MAX_GROUPED_PADDING) break;
      chosen.push(row);
      longest = next;
      real += len(row);
    }
    return { rows: chosen, bounded: true };
  }

  private dispatch(rows: QueuedRow<O>[], now: number): void {
    const taken = new Set(rows);
    this.queue = this.queue.filter((r) => !taken.has(r));
    const seqLength = rows.reduce((m, r) => Math.max(m, r.ids.length, 1), 1);
    const paddedBatchSize = paddedSizeOf(rows.length, this.options.allowedBatchSizes);
    const realTokens = rows.reduce((s, r) => s + r.ids.length, 0);
    const paddingRatio = 1 - realTokens / (paddedBatchSize * seqLength);
    const requests = new Set(rows.map((r) => r.request));
    for (const row of rows) row.request.queued--;
    const requestSpans: SpanContext[] = [];
    for (const request of requests) {
      request.lastDispatchAt = now;
      request.batchSizes.push(rows.length);
      request.paddingRatios.push(paddingRatio);
      if (request.span) requestSpans.push(request.span);
    }
    const stats: BatchStats = { size: rows.length, paddedSize: paddedBatchSize, seqLength, paddingRatio, queueMs: rows.map((r) => now - r.enqueuedAt), requestSpans };
    this.hooks.onBatch?.(stats);
    this.inFlight++;
    this.executor
      .execute({ rows: rows.map((r) => r.ids), paddedBatchSize, seqLength, paddingRatio })
      .then(
        ({ outputs, computeUs }) => {
          this.hooks.onBatchDone?.(stats, computeUs);
          for (const request of requests) request.computeUs += computeUs;
          rows.forEach((row, i) => {
            const request = row.request;
            if (request.settled) return;
            request.outputs[row.index] = outputs[i];
            if (--request.remaining === 0) this.succeed(request);
          });
        },
        (error: Error) => {
          this.hooks.onBatchFailed?.(stats, error);
          for (const request of requests) this.fail(request, error);
        },
      )
      .finally(() => {
        this.inFlight--;
        this.pump();
        if (this.closed && this.queue.length === 0 && this.inFlight === 0) this.drained?.();
      });
  }

  private succeed(request: PendingRequest<O>): void {
    request.settled = true;
    request.cleanup();
    const n = request.batchSizes.length;
    request.resolve({
      outputs: request.outputs,
      timing: {
        queueUs: Math.round((request.lastDispatchAt - request.enqueuedAt) * 1000),
        computeUs: request.computeUs,
        batchSize: request.batchSizes.reduce((a, b) => a + b, 0) / n,
        paddingRatio: request.paddingRatios.reduce((a, b) => a + b, 0) / n,
        batches: n,
      },
    });
  }

  /** Settles a request with an error and drops whatever of it is still queued; rows already running finish unread. */
  private fail(request: PendingRequest<O>, error: Error): void {
    if (request.settled) return;
    request.settled = true;
    request.cleanup();
    if (request.queued > 0) {
      this.queue = this.queue.filter((r) => r.request !== request);
      request.queued = 0;
      if (this.closed && this.queue.length === 0 && this.inFlight === 0) this.drained?.();
    }
    request.reject(error);
  }

  private armTimer(at: number): void {
    if (this.timer !== undefined && this.timerAt <= at) return;
    this.disarmTimer();
    this.timerAt = at;
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(0, at - this.clock.now()));
  }

  private disarmTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }
}
