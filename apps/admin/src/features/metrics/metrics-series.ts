import type { MetricPoint, MetricSeries } from '../../api/types';

export type RangeId = '15m' | '1h' | '6h' | '24h' | '7d';

export const RANGES: ReadonlyArray<{ id: RangeId; seconds: number }> = [
  { id: '15m', seconds: 15 * 60 },
  { id: '1h', seconds: 3600 },
  { id: '6h', seconds: 6 * 3600 },
  { id: '24h', seconds: 24 * 3600 },
  { id: '7d', seconds: 7 * 24 * 3600 },
];

/** About 120 points per chart, on the API's grid of whole 10 s buckets. */
export function rangeQuery(range: RangeId, now: number): { from: number; to: number; step: number } {
  const seconds = RANGES.find((r) => r.id === range)?.seconds ?? 3600;
  const step = Math.max(10, Math.ceil(seconds / 120 / 10) * 10);
  return { from: now - seconds * 1000, to: now, step };
}

export type MetricKey = 'requestsPerSecond' | 'p50Ms' | 'p95Ms' | 'p99Ms' | 'errorRate' | 'meanBatchSize' | 'cacheHitRate' | 'shadowAgreement';

export interface MetricDef {
  key: MetricKey;
  title: string;
  /** How a value reads on the axis and in the tooltip. */
  kind: 'rate' | 'ms' | 'fraction' | 'count';
}

export const METRICS: readonly MetricDef[] = [
  { key: 'requestsPerSecond', title: 'Requests/s', kind: 'rate' },
  { key: 'p50Ms', title: 'Latency p50', kind: 'ms' },
  { key: 'p95Ms', title: 'Latency p95', kind: 'ms' },
  { key: 'p99Ms', title: 'Latency p99', kind: 'ms' },
  { key: 'errorRate', title: 'Error rate', kind: 'fraction' },
  { key: 'meanBatchSize', title: 'Batch size (mean)', kind: 'count' },
  { key: 'cacheHitRate', title: 'Token cache hit rate', kind: 'fraction' },
  { key: 'shadowAgreement', title: 'Shadow agreement', kind: 'fraction' },
];

/** v1, v2, …; the series' own name, used as the data key and in the legend. */
export const seriesName = (s: Pick<MetricSeries, 'version'>) => `v${s.version}`;

export type ChartRow = { t: number } & Record<string, number | null>;

/**
 * One row per time bucket with one column per version, the shape a multi-line chart wants.
 * A version without a point in a bucket gets null, drawn as a gap rather than a zero.
 */
export function pivot(series: MetricSeries[], key: MetricKey): ChartRow[] {
  const rows = new Map<number, ChartRow>();
  for (const s of series) {
    for (const p of s.points) {
      const t = Date.parse(p.t);
      const row = rows.get(t) ?? ({ t } as ChartRow);
      row[seriesName(s)] = valueOf(p, key);
      rows.set(t, row);
    }
  }
  const names = series.map(seriesName);
  return [...rows.values()]
    .sort((a, b) => a.t - b.t)
    .map((row) => {
      for (const n of names) if (!(n in row)) row[n] = null;
      return row;
    });
}

function valueOf(p: MetricPoint, key: MetricKey): number | null {
  const v = p[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Whether a metric has any value at all, so an empty chart can say why it is empty. */
export function hasData(series: MetricSeries[], key: MetricKey): boolean {
  return series.some((s) => s.points.some((p) => valueOf(p, key) !== null && !(key === 'requestsPerSecond' && p.requests === 0)));
}

// Tableau 10: tells up to ten versions apart and stays readable for most colour-blind eyes.
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export const colorFor = (index: number) => PALETTE[index % PALETTE.length];
