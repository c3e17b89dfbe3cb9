import { lazy, Suspense, useState } from 'react';
import { navigate } from '../../../app/router';
import { ModelSelect } from '../../../ui/ModelSelect';
import { PageHeading } from '../../../ui/PageHeading';
import { EmptyState, ErrorState, Loading } from '../../../ui/QueryStates';
import { formatTime } from '../../../ui/format';
import { useModels } from '../../models/hooks/use-models';
import { AUTO_REFRESH_MS, useMetrics } from '../hooks/use-metrics';
import { RANGES, type RangeId } from '../metrics-series';

const MetricsCharts = lazy(() => import('./MetricsCharts').then((m) => ({ default: m.MetricsCharts })));

export interface MetricsPageProps {
  /** From the URL (#/metrics/spam); the first model when absent. */
  model?: string;
}

export function MetricsPage({ model: routeModel }: MetricsPageProps) {
  const models = useModels();
  const names = models.data?.map((m) => m.name) ?? [];
  const name = routeModel ?? names[0];
  const [range, setRange] = useState<RangeId>('1h');
  const [autoRefresh, setAutoRefresh] = useState(false);
  const metrics = useMetrics(name, range, autoRefresh);
  const data = metrics.data;
  const noTraffic = data !== undefined && data.series.every((s) => s.points.every((p) => p.requests === 0 && p.shadowRequests === 0));

  return (
    <>
      <PageHeading intro="Per-version traffic, latency and quality; versions of one model share each chart.">Metrics</PageHeading>
      {models.isPending && <Loading label="Loading models…" />}
      {models.isError && <ErrorState title="Could not load the models" error={models.error} onRetry={() => void models.refetch()} />}
      {models.data && names.length === 0 && <EmptyState>No models are registered yet.</EmptyState>}
      {name && (
        <div className="toolbar card">
          {names.length > 0 && <ModelSelect id="metrics-model" models={names} value={name} onChange={(m) => navigate({ page: 'metrics', model: m })} />}
          <fieldset className="segmented">
            <legend>Time range</legend>
            {RANGES.map((r) => (
              <span key={r.id}>
                <input type="radio" id={`range-${r.id}`} name="metrics-range" value={r.id} checked={range === r.id} onChange={() => setRange(r.id)} />
                <label htmlFor={`range-${r.id}`}>{r.id}</label>
              </span>
            ))}
          </fieldset>
          <div className="checkbox">
            <input id="metrics-auto-refresh" type="checkbox" checked={autoRefresh} onChange={(e) => setAutoRefresh(e.target.checked)} />
            <label htmlFor="metrics-auto-refresh">Auto-refresh (every {AUTO_REFRESH_MS / 1000} s)</label>
          </div>
          <span className="muted small" aria-live="polite">
            {metrics.isFetching ? 'Refreshing…' : data ? `${formatTime(data.from)} – ${formatTime(data.to)}, ${data.step} s buckets` : ''}
          </span>
        </div>
      )}
      {name && metrics.isPending && <Loading label="Loading metrics…" />}
      {metrics.isError && <ErrorState title="Could not load the metrics" error={metrics.error} onRetry={() => void metrics.refetch()} />}
      {data && data.series.length === 0 && <EmptyState>No version of {name} has metrics in this range.</EmptyState>}
      {data && data.series.length > 0 && (
        <>
          {noTraffic && <EmptyState>{name} had no traffic in this range.</EmptyState>}
          <Suspense fallback={<Loading label="Loading charts…" />}>
            <MetricsCharts series={data.series} spanMs={new Date(data.to).getTime() - new Date(data.from).getTime()} />
          </Suspense>
        </>
      )}
    </>
  );
}
