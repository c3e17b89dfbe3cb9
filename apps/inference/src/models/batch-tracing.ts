import { endSpan, startSpan, tracingEnabled, type Span } from '@servable/observability';
import type { BatchStats, DynamicBatcherHooks } from '../batching/dynamic-batcher';

/**
 * Adds a span per batch to a version's batcher hooks when tracing is on. A batch
 * serves several requests, so its span is the root of a trace of its own and
 * links to the Predict span of every request in it (OpenTelemetry's model for
 * batch processing); each request's trace has its queue wait instead.
 */
export function traceBatches(hooks: DynamicBatcherHooks, model: string, version: number): DynamicBatcherHooks {
  if (!tracingEnabled()) return hooks;
  const spans = new WeakMap<BatchStats, Span>();
  return {
    onBatch: (stats) => {
      hooks.onBatch?.(stats);
      const traced = startSpan(`batch ${model}/${version}`, undefined, {
        links: stats.requestSpans.map((context) => ({ context })),
        attributes: {
          'servable.model': model,
          'servable.model_version': version,
          'servable.batch.rows': stats.size,
          'servable.batch.padded_rows': stats.paddedSize,
          'servable.batch.sequence_length': stats.seqLength,
          'servable.batch.padding_ratio': stats.paddingRatio,
          'servable.batch.requests': stats.requestSpans.length,
        },
      });
      if (traced) spans.set(stats, traced.span);
    },
    onBatchDone: (stats, computeUs) => {
      hooks.onBatchDone?.(stats, computeUs);
      spans.get(stats)?.setAttribute('servable.batch.compute_us', computeUs);
      endSpan(spans.get(stats));
    },
    onBatchFailed: (stats, error) => {
      hooks.onBatchFailed?.(stats, error);
      endSpan(spans.get(stats), error);
    },
  };
}
