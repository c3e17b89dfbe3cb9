import { describe, expect, it } from 'vitest';
import type { MetricPoint } from '../../api/types';
import { pivot, rangeQuery } from './metrics-series';

const point = (t: string, p99Ms: number | null): MetricPoint => ({
  t,
  requests: 10,
  requestsPerSecond: 1,
  errors: {},
  errorRate: 0,
  p50Ms: null,
  p95Ms: null,
  p99Ms,
  meanTokenizeMs: null,
  meanInferenceMs: null,
  meanBatchSize: null,
  cacheHitRate: null,
  shadowRequests: 0,
  shadowAgreement: null,
  shadowMeanLatencyMs: null,
});

describe('metrics series', () => {
  it('puts versions side by side per bucket, with gaps where one has no point', () => {
    const rows = pivot(
      [
        { model: 'spam', version: 1, points: [point('2026-01-01T00:00:00Z', 12), point('2026-01-01T00:00:10Z', 14)] },
        { model: 'spam', version: 2, points: [point('2026-01-01T00:00:10Z', 9)] },
      ],
      'p99Ms',
    );
    expect(rows).toEqual([
      { t: Date.parse('2026-01-01T00:00:00Z'), v1: 12, v2: null },
      { t: Date.parse('2026-01-01T00:00:10Z'), v1: 14, v2: 9 },
    ]);
  });

  it('asks for about 120 points on the 10 s grid', () => {
    expect(rangeQuery('15m', 1_000_000_000)).toEqual({ from: 1_000_000_000 - 900_000, to: 1_000_000_000, step: 10 });
    expect(rangeQuery('1h', 0).step).toBe(30);
    expect(rangeQuery('7d', 0).step).toBe(5040);
  });
});
