import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The `model` label of a request for a model the process does not serve. Callers
 * choose the model name (it is a URL path segment), so copying it into a label
 * would let any client mint unbounded series.
 */
export const UNKNOWN_MODEL = '_unknown_';

/**
 * One Prometheus registry per process, with the standard process/GC metrics.
 * No default labels: Prometheus adds `job` and `instance` from the scrape target,
 * and a `service` label of our own would collide with Kubernetes service discovery
 * (it ends up as `exported_service`). Metric names carry the component instead
 * (`servable_gateway_*`, `servable_tokenizer_*`, `servable_inference_*`).
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
