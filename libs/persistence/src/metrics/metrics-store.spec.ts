import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../database/database';
import { TestDatabase } from '../testing/test-database';
import { LATENCY_BOUNDS_MS, quantile } from './histogram';
import { BUCKET_MS, MetricsStore, labelAgreement } from './metrics-store';

describe('metrics store', () => {
  let testDb: TestDatabase;
  let db: Database;
  const t0 = Math.floor(Date.UTC(2026, 0, 1, 12) / BUCKET_MS) * BUCKET_MS;

  beforeAll(async () => {
    testDb = await TestDatabase.create();
    db = await testDb.open();
  });
  afterAll(async () => {
    await testDb?.drop();
  });

  it('writes rows that add up to the N requests recorded, across flushes and replicas', async () => {
    const a = new MetricsStore(db.dataSource);
    const b = new MetricsStore(db.dataSource);
    const n = 1_234;
    for (let i = 0; i < n; i++) {
      const store = i % 3 === 0 ? b : a;
      store.record({
        model: 'spam',
        version: 1 + (i % 2),
        latencyMs: 5 + (i % 40),
        errorCode: i % 100 === 0 ? 'RESOURCE_EXHAUSTED' : undefined,
        tokenizeMs: 1,
        inferenceMs: 3,
        batchSize: 8,
        cacheHits: i % 4 === 0 ? 1 : 0,
        cacheLookups: 1,
        at: t0 + (i % 35) * 1000,
      });
      // Flush part-way so the same bucket is written more than once.
      if (i === 600) await Promise.all([a.flush(), b.flush()]);
    }
    await Promise.all([a.flush(), b.flush()]);
    const [{ total, errors }] = await db.dataSource.query(`SELECT sum(requests)::int AS total, sum(error_count)::int AS errors FROM metric_bucket`);
    expect(total).toBe(n);
    expect(errors).toBe(13);
    expect(await db.dataSource.query(`SELECT count(*)::int AS n FROM metric_bucket`)).toEqual([{ n: 8 }]);
    const [{ hist }] = await db.dataSource.query(
      `SELECT sum(c)::int AS hist FROM metric_bucket, unnest(latency_counts) AS c`,
    );
    expect(hist).toBe(n);
  });

  it('answers a time series with rates, percentiles, means, hit rate and shadow agreement', async () => {
    const store = new MetricsStore(db.dataSource);
    const at = t0 + 3_600_000;
    for (let i = 0; i < 100; i++) store.record({ model: 'toy', version: 1, latencyMs: i < 50 ? 8 : 80, errorCode: i < 10 ? 'UNAVAILABLE' : undefined, tokenizeMs: 2, inferenceMs: 6, batchSize: 4, cacheHits: i % 2, cacheLookups: 1, at });
    for (let i = 0; i < 20; i++) store.recordShadow({ model: 'toy', version: 2, agreement: i < 15 ? 1 : 0, latencyMs: 12, at });
    await store.flush();
    const series = await store.query({ from: new Date(at), to: new Date(at + 60_000), stepSeconds: 60, model: 'toy' });
    expect(series.map((s) => s.version)).toEqual([1, 2]);
    const p = series[0].points[0];
    expect(p.requests).toBe(100);
    expect(p.requestsPerSecond).toBeCloseTo(100 / 60, 6);
    expect(p.errorRate).toBeCloseTo(0.1, 6);
    expect(p.errors).toEqual({ UNAVAILABLE: 10 });
    expect(p.p50Ms).toBeGreaterThan(5);
    expect(p.p50Ms).toBeLessThanOrEqual(10);
    expect(p.p95Ms).toBeGreaterThan(50);
    expect(p.p99Ms).toBeLessThanOrEqual(100);
    expect(p.meanTokenizeMs).toBeCloseTo(2, 6);
    expect(p.meanInferenceMs).toBeCloseTo(6, 6);
    expect(p.meanBatchSize).toBeCloseTo(4, 6);
    expect(p.cacheHitRate).toBeCloseTo(0.5, 6);
    const shadow = series[1].points[0];
    expect(shadow.requests).toBe(0);
    expect(shadow.shadowRequests).toBe(20);
    expect(shadow.shadowAgreement).toBeCloseTo(0.75, 6);
    expect(shadow.shadowMeanLatencyMs).toBeCloseTo(12, 6);
    // Version filter, and one point per step.
    const v1 = await store.query({ from: new Date(at), to: new Date(at + 60_000), stepSeconds: 10, model: 'toy', version: 1 });
    expect(v1).toHaveLength(1);
    expect(v1[0].points).toHaveLength(6);
    expect(v1[0].points.reduce((s, x) => s + x.requests, 0)).toBe(100);
  });

  it('writes again after a flush failed: the failed deltas and the new ones, once each', async () => {
    let down = true;
    // The database as the store sees it: refusing while "down", then the real one.
    const flaky = new Proxy(db.dataSource, {
      get: (target, key, receiver) =>
        key === 'query' && down ? () => Promise.reject(new Error('connect ECONNREFUSED')) : Reflect.get(target, key, receiver),
    });
    const store = new MetricsStore(flaky, {});
    const at = t0 + 7_200_000;
    store.record({ model: 'flaky', version: 1, latencyMs: 1, at });
    await expect(store.flush()).rejects.toThrow('ECONNREFUSED');
    await expect(store.flush()).rejects.toThrow('ECONNREFUSED');
    down = false;
    store.record({ model: 'flaky', version: 1, latencyMs: 1, at });
    await store.flush();
    expect(await db.dataSource.query(`SELECT sum(requests)::int AS n FROM metric_bucket WHERE model = 'flaky'`)).toEqual([{ n: 2 }]);
  });

  it('prunes buckets older than the retention', async () => {
    const store = new MetricsStore(db.dataSource, { retentionDays: 7 });
    const now = t0 + 3_600_000;
    store.record({ model: 'old', version: 1, latencyMs: 1, at: now - 8 * 86_400_000 });
    store.record({ model: 'old', version: 1, latencyMs: 1, at: now - 6 * 86_400_000 });
    await store.flush();
    expect(await store.prune(now)).toBeGreaterThanOrEqual(1);
    expect(await db.dataSource.query(`SELECT count(*)::int AS n FROM metric_bucket WHERE model = 'old'`)).toEqual([{ n: 1 }]);
  });
});

describe('latency histogram', () => {
  it('interpolates quantiles inside a bucket', () => {
    const counts = new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
    counts[3] = 100; // (5, 10] ms
    expect(quantile(counts, 0.5)).toBeCloseTo(7.5, 6);
    expect(quantile(new Array(counts.length).fill(0), 0.5)).toBeNull();
  });
});

describe('labelAgreement', () => {
  it('is the share of rows with the same label', () => {
    expect(labelAgreement(['spam', 'ham', 'ham', 'spam'], ['spam', 'ham', 'spam', 'spam'])).toBe(0.75);
    expect(labelAgreement(['spam'], [])).toBe(0);
  });
});
