import type { ModelSummary, ServiceHealth } from '../../../api/types';
import { formatMs, formatPercent, formatRate, formatTime } from '../../../ui/format';
import { PageHeading } from '../../../ui/PageHeading';
import { EmptyState, ErrorState, Loading } from '../../../ui/QueryStates';
import { StatusBadge } from '../../../ui/StatusBadge';
import { useOverview } from '../hooks/use-overview';

export function OverviewPage() {
  const overview = useOverview();
  return (
    <>
      <PageHeading intro="Is the platform up, and how is each model doing over the last hour.">Overview</PageHeading>
      {overview.isPending && <Loading label="Loading the overview…" />}
      {overview.isError && <ErrorState title="Could not load the overview" error={overview.error} onRetry={() => void overview.refetch()} />}
      {overview.data && (
        <>
          <ServicesSection services={overview.data.services} />
          <ModelsSection models={overview.data.models} from={overview.data.from} to={overview.data.to} />
        </>
      )}
    </>
  );
}

function ServicesSection({ services }: { services: ServiceHealth[] }) {
  return (
    <section aria-labelledby="services-heading">
      <h2 id="services-heading">Services</h2>
      {services.length === 0 ? (
        <EmptyState>The gateway reported no services.</EmptyState>
      ) : (
        <ul className="service-cards">
          {services.map((s) => (
            <li key={s.name} className="card" data-testid={`service-${s.name}`}>
              <h3>{s.name}</h3>
              <StatusBadge status={s.status} />
              {s.backend && (
                <p>
                  backend <strong>{s.backend}</strong>
                </p>
              )}
              {s.detail && <p className="muted">{s.detail}</p>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function ModelsSection({ models, from, to }: { models: ModelSummary[]; from: string; to: string }) {
  return (
    <section aria-labelledby="traffic-heading">
      <h2 id="traffic-heading">Models, last hour</h2>
      <p className="muted small">
        {formatTime(from)} – {formatTime(to)}
      </p>
      {models.length === 0 ? (
        <EmptyState>No models are registered yet.</EmptyState>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Versions (available)</th>
                <th scope="col" className="num">
                  Requests/s
                </th>
                <th scope="col" className="num">
                  Error rate
                </th>
                <th scope="col" className="num">
                  p99
                </th>
              </tr>
            </thead>
            <tbody>
              {models.map((m) => (
                <tr key={m.model}>
                  <th scope="row">{m.model}</th>
                  <td>
                    {m.versions} ({m.available} available)
                  </td>
                  <td className="num">{formatRate(m.requestsPerSecond)}</td>
                  <td className="num">{formatPercent(m.errorRate, 2)}</td>
                  <td className="num">{formatMs(m.p99Ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
