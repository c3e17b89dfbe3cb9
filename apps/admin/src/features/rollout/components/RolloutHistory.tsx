import { formatTime } from '../../../ui/format';
import { EmptyState, ErrorState, Loading } from '../../../ui/QueryStates';
import { useAudit } from '../../audit/hooks/use-audit';
import { AuditChange } from '../../audit/components/AuditChange';

export interface RolloutHistoryProps {
  model: string;
}

/** The model's recent changes, from the audit log. */
export function RolloutHistory({ model }: RolloutHistoryProps) {
  const audit = useAudit({ target: `model:${model}`, limit: 20 });
  return (
    <section className="card" aria-labelledby="rollout-history-heading">
      <h2 id="rollout-history-heading">History of {model}</h2>
      {audit.isPending && <Loading label="Loading the history…" />}
      {audit.isError && <ErrorState title="Could not load the history" error={audit.error} onRetry={() => void audit.refetch()} />}
      {audit.data && audit.data.events.length === 0 && <EmptyState>Nothing has changed on {model} yet.</EmptyState>}
      {audit.data && audit.data.events.length > 0 && (
        <ol className="history" data-testid="rollout-history">
          {audit.data.events.map((e) => (
            <li key={e.id}>
              <time dateTime={e.at}>{formatTime(e.at)}</time> <strong>{e.action}</strong> by {e.actor}
              <AuditChange before={e.before} after={e.after} />
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
