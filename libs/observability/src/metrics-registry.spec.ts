import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from './metrics-registry';

describe('createMetricsRegistry', () => {
  it('exports the standard process, GC and event-loop metrics, with no labels of its own', async () => {
    const registry = createMetricsRegistry();
    await new Promise((resolve) => setTimeout(resolve, 250));
    const text = await registry.metrics();
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds']) {
      expect(text).toMatch(new RegExp(`^${name} \\S+$`, 'm'));
    }
    // The lag histogram has sampled (a timer every EVENT_LOOP_SAMPLE_MS): its p99 is a real delay, not 0.
    expect(Number(/^nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(registry.getMetricsAsArray().length).toBeGreaterThan(5);
    registry.clear();
  });
});
