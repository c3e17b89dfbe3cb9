/** Dynamic batching knobs of one model version (servable.json `batching`, env defaults). */
export interface BatchingOptions {
  /** Rows per batch: larger amortises per-call overhead, but one batch takes longer. */
  maxBatchSize: number;
  /** How long a non-full batch may wait for more rows: throughput at low load vs. added latency. */
  batchTimeoutMicros: number;
  /** Rows that may wait in the queue: beyond this RESOURCE_EXHAUSTED at once, rather than unbounded latency. */
  maxQueueSize: number;
  /** Padded tokens (rows x longest row) per batch, as in TEI: bounds one batch's memory and run time for long inputs. */
  maxBatchTokens: number;
  /** If set, batches are padded up to one of these sizes: fewer distinct shapes to warm, some wasted rows. */
  allowedBatchSizes?: number[];
}

/** Rows a batch of `rows` is run with: the smallest allowed size that holds them, else `rows` itself. */
export function paddedSizeOf(rows: number, allowedBatchSizes: number[] | undefined): number {
  if (!allowedBatchSizes?.length) return rows;
  return [...allowedBatchSizes].sort((a, b) => a - b).find((size) => size >= rows) ?? rows;
}
