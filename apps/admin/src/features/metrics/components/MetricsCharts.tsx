import type { MetricSeries } from '../../../api/types';
import { hasData, METRICS, pivot, seriesName } from '../metrics-series';
import { MetricChart } from './MetricChart';

export interface MetricsChartsProps {
  series: MetricSeries[];
  spanMs: number;
}

/** All metric charts; loaded lazily with recharts, which is most of the console's weight. */
export function MetricsCharts({ series, spanMs }: MetricsChartsProps) {
  const sorted = [...series].sort((a, b) => a.version - b.version);
  const versions = sorted.map(seriesName);
  return (
    <div className="charts">
      {METRICS.map((m) => (
        <MetricChart key={m.key} metric={m} rows={pivot(sorted, m.key)} versions={versions} spanMs={spanMs} empty={!hasData(sorted, m.key)} />
      ))}
    </div>
  );
}
