import type { MetricPoint, MetricSeries } from '@servable/contracts/admin-api';
import { ServableError } from '@servable/contracts';
import type { DataSource } from 'typeorm';
import { LATENCY_BUCKETS, bucketIndex, quantile } from './histogram';

export type { MetricPoint, MetricSeries };

/** Width of a metric bucket. Queries step in multiples of it. */
export const BUCKET_MS = 10_000;

/** One answered (or failed) request, as the gateway saw it. */
export interface RequestSample {
  model: string;
  version: number;
  latencyMs: number;
  /** The ErrorCode when the request failed. */
  errorCode?: string;
  tokenizeMs?: number;
  inferenceMs?: number;
  /** Rows in the batch that served it, as inference reports. */
  batchSize?: number;
  /** Tokenizer cache hits and lookups for this request's texts. */
  cacheHits?: number;
  cacheLookups?: number;
  /** Epoch ms; defaults to now. */
  at?: number;
}

/** A request mirrored to a shadow version: recorded on the shadow's row, not counted as a request. */
export interface ShadowSample {
  model: string;
  /** The shadow version. */
  version: number;
  /** Share of rows whose top label matched the primary's, 0..1. */
  agreement: number;
  latencyMs: number;
  at?: number;
}

/** A canary request also sent to stable during a canary run: recorded on the canary's row. */
export interface ComparisonSample {
  model: string;
  /** The canary version. */
  version: number;
  /** Share of rows whose top label matched stable's, 0..1. */
  agreement: number;
  at?: number;
}

/** Totals of a version that served nothing. */
export function noTraffic(): VersionTotals {
  return { requests: 0, errors: 0, latency: new Array<number>(LATENCY_BUCKETS).fill(0), compareRequests: 0, compareAgreementSum: 0 };
}

/** Raw sums of one version over a window of whole buckets: what the canary analysis judges. */
export interface VersionTotals {
  requests: number;
  errors: number;
  latency: number[];
  compareRequests: number;
  compareAgreementSum: number;
}

interface Bucket {
  start: number;
  model: string;
  version: number;
  requests: number;
  errorCount: number;
  errors: Record<string, number>;
  latency: number[];
  latencyMsSum: number;
  tokenizeMsSum: number;
  tokenizeCount: number;
  inferenceMsSum: number;
  inferenceCount: number;
  batchSizeSum: number;
  batchCount: number;
  cacheHits: number;
  cacheLookups: number;
  shadowRequests: number;
  shadowAgreementSum: number;
  shadowLatencyMsSum: number;
  compareRequests: number;
  compareAgreementSum: number;
}

export interface MetricsStoreOptions {
  /** How often buckets are written. Shorter shows traffic sooner; longer writes fewer, bigger batches. */
  flushIntervalMs?: number;
  /** Buckets older than this are deleted; 7 days by default. */
  retentionDays?: number;
  /** Buckets held in memory when the database is unreachable; beyond it samples are dropped and counted. */
  maxPendingBuckets?: number;
  onError?: (err: Error) => void;
}

export interface MetricsQuery {
  from: Date;
  to: Date;
  /** Seconds per point, a multiple of 10. */
  stepSeconds: number;
  model?: string;
  version?: number;
}

const MAX_POINTS = 2_000;
const ROWS_PER_INSERT = 200;

/**
 * Per model-version metrics in 10 s buckets. record() only touches memory; a timer
 * writes the accumulated deltas in batches, adding them to whatever the row already
 * holds, so several replicas and several flushes of one bucket sum up exactly.
 */
export class MetricsStore {
  private pending = new Map<string, Bucket>();
  private flushTimer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  /** Samples dropped because the database was unreachable for too long. */
  dropped = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: MetricsStoreOptions = {},
  ) {}

  start(): void {
    this.flushTimer = setInterval(() => void this.flush().catch((e: Error) => this.options.onError?.(e)), this.options.flushIntervalMs ?? 5_000);
    this.flushTimer.unref();
    const prune = () => void this.prune().catch((e: Error) => this.options.onError?.(e));
    prune();
    this.pruneTimer = setInterval(prune, 3_600_000);
    this.pruneTimer.unref();
  }

  /** Stops the timers and writes what is left. */
  async stop(): Promise<void> {
    clearInterval(this.flushTimer);
    clearInterval(this.pruneTimer);
    await this.flush();
  }

  record(s: RequestSample): void {
    const b = this.bucket(s.model, s.version, s.at);
    if (!b) return;
    // A bad clock reading must not turn a whole bucket's sums into NaN.
    const latency = Number.isFinite(s.latencyMs) && s.latencyMs > 0 ? s.latencyMs : 0;
    b.requests++;
    b.latency[bucketIndex(latency)]++;
    b.latencyMsSum += latency;
    if (s.errorCode) {
      b.errorCount++;
      b.errors[s.errorCode] = (b.errors[s.errorCode] ?? 0) + 1;
    }
    if (s.tokenizeMs !== undefined) {
      b.tokenizeMsSum += s.tokenizeMs;
      b.tokenizeCount++;
    }
    if (s.inferenceMs !== undefined) {
      b.inferenceMsSum += s.inferenceMs;
      b.inferenceCount++;
    }
    if (s.batchSize !== undefined) {
      b.batchSizeSum += s.batchSize;
      b.batchCount++;
    }
    b.cacheHits += s.cacheHits ?? 0;
    b.cacheLookups += s.cacheLookups ?? 0;
  }

  recordShadow(s: ShadowSample): void {
    const b = this.bucket(s.model, s.version, s.at);
    if (!b) return;
    b.shadowRequests++;
    b.shadowAgreementSum += Number.isFinite(s.agreement) ? Math.min(1, Math.max(0, s.agreement)) : 0;
    b.shadowLatencyMsSum += Number.isFinite(s.latencyMs) && s.latencyMs > 0 ? s.latencyMs : 0;
  }

  recordComparison(s: ComparisonSample): void {
    const b = this.bucket(s.model, s.version, s.at);
    if (!b) return;
    b.compareRequests++;
    b.compareAgreementSum += Number.isFinite(s.agreement) ? Math.min(1, Math.max(0, s.agreement)) : 0;
  }

  /**
   * Per version, the sums of every flushed bucket that overlaps [from, to): all replicas'
   * traffic, at 10 s granularity, as of their last flush.
   */
  async totals(model: string, versions: number[], from: Date, to: Date): Promise<Map<number, VersionTotals>> {
    const start = new Date(Math.floor(from.getTime() / BUCKET_MS) * BUCKET_MS);
    const rows: DbRow[] = await this.dataSource.query(
      `SELECT * FROM metric_bucket WHERE model = $1 AND version = ANY($2::text::int[]) AND bucket_start >= $3 AND bucket_start < $4`,
      [model, `{${versions.join(',')}}`, start, to],
    );
    const out = new Map<number, VersionTotals>();
    for (const v of versions) out.set(v, noTraffic());
    for (const r of rows) {
      const t = out.get(r.version);
      if (!t) continue;
      t.requests += r.requests;
      t.errors += r.error_count;
      r.latency_counts.forEach((n, i) => (t.latency[i] += n));
      t.compareRequests += r.compare_requests;
      t.compareAgreementSum += r.compare_agreement_sum;
    }
    return out;
  }

  /**
   * Writes everything recorded so far. Calls are serialised; a failed batch goes back to memory
   * for the next call. The chain goes on past a failure: chained on the failed promise itself,
   * every later flush was skipped, and after one database outage no metric was written again.
   */
  flush(): Promise<void> {
    const run = this.flushing.then(() => this.writePending());
    this.flushing = run.catch(() => undefined);
    return run;
  }

  /** Deletes buckets older than the retention. Returns how many went. */
  async prune(now = Date.now()): Promise<number> {
    const cutoff = new Date(now - (this.options.retentionDays ?? 7) * 86_400_000);
    const result: unknown = await this.dataSource.query(`DELETE FROM metric_bucket WHERE bucket_start < $1`, [cutoff]);
    return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
  }

  async query(q: MetricsQuery): Promise<MetricSeries[]> {
    const stepMs = q.stepSeconds * 1000;
    if (!Number.isInteger(q.stepSeconds) || stepMs % BUCKET_MS !== 0 || stepMs <= 0) throw ServableError.invalid('step must be a positive multiple of 10 seconds');
    const from = Math.floor(q.from.getTime() / stepMs) * stepMs;
    const to = q.to.getTime();
    if (!(to > from)) throw ServableError.invalid('to must be after from');
    const windows = Math.ceil((to - from) / stepMs);
    if (windows > MAX_POINTS) throw ServableError.invalid(`from..to at this step gives ${windows} points; at most ${MAX_POINTS}`);
    const params: unknown[] = [new Date(from), new Date(to)];
    let where = `bucket_start >= $1 AND bucket_start < $2`;
    if (q.model) {
      params.push(q.model);
      where += ` AND model = $${params.length}`;
    }
    if (q.version !== undefined) {
      params.push(q.version);
      where += ` AND version = $${params.length}`;
    }
    const rows: DbRow[] = await this.dataSource.query(`SELECT * FROM metric_bucket WHERE ${where} ORDER BY model, version, bucket_start`, params);
    const series = new Map<string, { model: string; version: number; windows: Bucket[] }>();
    for (const row of rows) {
      const key = `${row.model}\u0000${row.version}`;
      let s = series.get(key);
      if (!s) {
        s = { model: row.model, version: row.version, windows: Array.from({ length: windows }, (_, i) => emptyBucket(from + i * stepMs, row.model, row.version)) };
        series.set(key, s);
      }
      const i = Math.floor((new Date(row.bucket_start).getTime() - from) / stepMs);
      addRow(s.windows[i], row);
    }
    return [...series.values()].map((s) => ({ model: s.model, version: s.version, points: s.windows.map((w) => point(w, stepMs)) }));
  }

  private bucket(model: string, version: number, at = Date.now()): Bucket | undefined {
    const start = Math.floor(at / BUCKET_MS) * BUCKET_MS;
    const key = `${start}\u0000${model}\u0000${version}`;
    let b = this.pending.get(key);
    if (!b) {
      if (this.pending.size >= (this.options.maxPendingBuckets ?? 50_000)) {
        this.dropped++;
        return undefined;
      }
      b = emptyBucket(start, model, version);
      this.pending.set(key, b);
    }
    return b;
  }

  private async writePending(): Promise<void> {
    if (this.pending.size === 0) return;
    // Replicas upsert overlapping rows; taking the row locks in one global order
    // (bucket, model, version) is what keeps two concurrent flushes from deadlocking.
    const batch = [...this.pending.values()].sort(
      (a, b) => a.start - b.start || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0) || a.version - b.version,
    );
    this.pending = new Map();
    let written = 0;
    try {
      for (; written < batch.length; written += ROWS_PER_INSERT) await this.upsert(batch.slice(written, written + ROWS_PER_INSERT));
    } catch (err) {
      // A failed statement wrote nothing: put its chunk and the rest back for the next
      // flush. Chunks already written stay out, so nothing is counted twice.
      for (const b of batch.slice(written)) this.merge(b);
      throw err;
    }
  }

  private merge(b: Bucket): void {
    const key = `${b.start}\u0000${b.model}\u0000${b.version}`;
    const into = this.pending.get(key);
    if (!into) {
      this.pending.set(key, b);
      return;
    }
    addBucket(into, b);
  }

  private async upsert(rows: Bucket[]): Promise<void> {
    const params: unknown[] = [];
    const tuples = rows.map((b) => {
      const values = [
        new Date(b.start), b.model, b.version, b.requests, b.errorCount, JSON.stringify(b.errors), `{${b.latency.join(',')}}`,
        b.latencyMsSum, b.tokenizeMsSum, b.tokenizeCount, b.inferenceMsSum, b.inferenceCount, b.batchSizeSum, b.batchCount,
        b.cacheHits, b.cacheLookups, b.shadowRequests, b.shadowAgreementSum, b.shadowLatencyMsSum, b.compareRequests, b.compareAgreementSum,
      ];
      const base = params.length;
      params.push(...values);
      // Text casts: node-postgres and PGlite both pass a string through unchanged.
      return `(${values.map((_, j) => `$${base + j + 1}${j === 5 ? '::text::jsonb' : j === 6 ? '::text::int[]' : ''}`).join(', ')})`;
    });
    const add = (c: string) => `${c} = metric_bucket.${c} + EXCLUDED.${c}`;
    await this.dataSource.query(
      `INSERT INTO metric_bucket (bucket_start, model, version, requests, error_count, errors, latency_counts, latency_ms_sum,
         tokenize_ms_sum, tokenize_count, inference_ms_sum, inference_count, batch_size_sum, batch_count, cache_hits, cache_lookups,
         shadow_requests, shadow_agreement_sum, shadow_latency_ms_sum, compare_requests, compare_agreement_sum)
       VALUES ${tuples.join(', ')}
       ON CONFLICT (bucket_start, model, version) DO UPDATE SET
         ${['requests', 'error_count', 'latency_ms_sum', 'tokenize_ms_sum', 'tokenize_count', 'inference_ms_sum', 'inference_count', 'batch_size_sum', 'batch_count', 'cache_hits', 'cache_lookups', 'shadow_requests', 'shadow_agreement_sum', 'shadow_latency_ms_sum', 'compare_requests', 'compare_agreement_sum'].map(add).join(',\n         ')},
         errors = (SELECT coalesce(jsonb_object_agg(k, coalesce((metric_bucket.errors ->> k)::int, 0) + coalesce((EXCLUDED.errors ->> k)::int, 0)), '{}'::jsonb)
                   FROM jsonb_object_keys(metric_bucket.errors || EXCLUDED.errors) AS k),
         latency_counts = (SELECT array_agg(coalesce(a, 0) + coalesce(b, 0) ORDER BY i)
                           FROM unnest(metric_bucket.latency_counts, EXCLUDED.latency_counts) WITH ORDINALITY AS t(a, b, i))`,
      params,
    );
  }
}

interface DbRow {
  bucket_start: Date | string;
  model: string;
  version: number;
  requests: number;
  error_count: number;
  errors: Record<string, number>;
  latency_counts: number[];
  latency_ms_sum: number;
  tokenize_ms_sum: number;
  tokenize_count: number;
  inference_ms_sum: number;
  inference_count: number;
  batch_size_sum: number;
  batch_count: number;
  cache_hits: number;
  cache_lookups: number;
  shadow_requests: number;
  shadow_agreement_sum: number;
  shadow_latency_ms_sum: number;
  compare_requests: number;
  compare_agreement_sum: number;
}

function emptyBucket(start: number, model: string, version: number): Bucket {
  return {
    start, model, version, requests: 0, errorCount: 0, errors: {}, latency: new Array<number>(LATENCY_BUCKETS).fill(0), latencyMsSum: 0,
    tokenizeMsSum: 0, tokenizeCount: 0, inferenceMsSum: 0, inferenceCount: 0, batchSizeSum: 0, batchCount: 0, cacheHits: 0,
    cacheLookups: 0, shadowRequests: 0, shadowAgreementSum: 0, shadowLatencyMsSum: 0, compareRequests: 0, compareAgreementSum: 0,
  };
}

function addBucket(into: Bucket, b: Bucket): void {
  into.requests += b.requests;
  into.errorCount += b.errorCount;
  for (const [code, n] of Object.entries(b.errors)) into.errors[code] = (into.errors[code] ?? 0) + n;
  b.latency.forEach((n, i) => (into.latency[i] += n));
  into.latencyMsSum += b.latencyMsSum;
  into.tokenizeMsSum += b.tokenizeMsSum;
  into.tokenizeCount += b.tokenizeCount;
  into.inferenceMsSum += b.inferenceMsSum;
  into.inferenceCount += b.inferenceCount;
  into.batchSizeSum += b.batchSizeSum;
  into.batchCount += b.batchCount;
  into.cacheHits += b.cacheHits;
  into.cacheLookups += b.cacheLookups;
  into.shadowRequests += b.shadowRequests;
  into.shadowAgreementSum += b.shadowAgreementSum;
  into.shadowLatencyMsSum += b.shadowLatencyMsSum;
  into.compareRequests += b.compareRequests;
  into.compareAgreementSum += b.compareAgreementSum;
}

function addRow(into: Bucket, r: DbRow): void {
  addBucket(into, {
    start: into.start, model: r.model, version: r.version, requests: r.requests, errorCount: r.error_count, errors: r.errors ?? {},
    latency: r.latency_counts, latencyMsSum: r.latency_ms_sum, tokenizeMsSum: r.tokenize_ms_sum, tokenizeCount: r.tokenize_count,
    inferenceMsSum: r.inference_ms_sum, inferenceCount: r.inference_count, batchSizeSum: r.batch_size_sum, batchCount: r.batch_count,
    cacheHits: r.cache_hits, cacheLookups: r.cache_lookups, shadowRequests: r.shadow_requests, shadowAgreementSum: r.shadow_agreement_sum,
    shadowLatencyMsSum: r.shadow_latency_ms_sum, compareRequests: r.compare_requests, compareAgreementSum: r.compare_agreement_sum,
  });
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

function point(b: Bucket, stepMs: number): MetricPoint {
  return {
    t: new Date(b.start).toISOString(),
    requests: b.requests,
    requestsPerSecond: b.requests / (stepMs / 1000),
    errors: b.errors,
    errorRate: ratio(b.errorCount, b.requests),
    p50Ms: quantile(b.latency, 0.5),
    p95Ms: quantile(b.latency, 0.95),
    p99Ms: quantile(b.latency, 0.99),
    meanTokenizeMs: ratio(b.tokenizeMsSum, b.tokenizeCount),
    meanInferenceMs: ratio(b.inferenceMsSum, b.inferenceCount),
    meanBatchSize: ratio(b.batchSizeSum, b.batchCount),
    cacheHitRate: ratio(b.cacheHits, b.cacheLookups),
    shadowRequests: b.shadowRequests,
    shadowAgreement: ratio(b.shadowAgreementSum, b.shadowRequests),
    shadowMeanLatencyMs: ratio(b.shadowLatencyMsSum, b.shadowRequests),
  };
}

/** The share of rows where the shadow's top label equals the primary's: ShadowSample.agreement. */
export function labelAgreement(primary: readonly string[], shadow: readonly string[]): number {
  if (primary.length === 0 || primary.length !== shadow.length) return 0;
  let same = 0;
  for (let i = 0; i < primary.length; i++) if (primary[i] === shadow[i]) same++;
  return same / primary.length;
}
