import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The `model` label of a request for a model the process does not serve. Callers
 * choose the model name (it is a URL path segment), so copying it into a label
 * would let any client mint unbounded series.
 */
export const UNKNOWN_MODEL = '_unknown_';

/**
 * How often the event-loop lag histogram (nodejs_eventloop_lag_*) takes a sample. prom-client's
 * default, 10 ms, is a timer that wakes every process 100 times a second: measured, 8 ms of CPU per
 * second in an idle process (about 1.8 ms at 100 ms), which was most of what the tokenizer and
 * inference spend at idle, and 2-3% of the gateway's CPU per request under load. Ten samples a
 * second still give every scrape interval its percentiles.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * One Prometheus registry per process, with the standard process/GC metrics.
 * No default labels: Prometheus adds `job` and `instance` from the scrape target,
 * and a `service` label of our own would collide with Kubernetes service discovery
 * (it ends up as `exported_service`). Metric names carry the component instead
 * (`servable_gateway_*`, `servable_tokenizer_*`, `servable_inference_*`).
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  return registry;
}
