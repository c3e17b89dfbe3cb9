import { Registry, collectDefaultMetrics } from 'prom-client';

/** One Prometheus registry per process, with process/GC metrics and the service label. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
