import type { CanaryRunView } from '../../../api/types';
import { formatTime, versionName } from '../../../ui/format';
import { CanaryChecks } from './CanaryChecks';
import { CanaryStateBadge } from './CanaryStateBadge';

export interface CanaryHistoryProps {
  runs: CanaryRunView[];
}

/** Finished runs, newest first; each opens to its checks. */
export function CanaryHistory({ runs }: CanaryHistoryProps) {
  return (
    <section className="card" aria-labelledby="canary-history-heading">
      <h2 id="canary-history-heading">History</h2>
      {runs.length === 0 && <p className="muted">No finished runs yet.</p>}
      <ul className="canary-history" data-testid="canary-history">
        {runs.map((r) => (
          <li key={r.id}>
            <details>
              <summary>
                Run {r.id}: {versionName(r.canary)} against {versionName(r.stable)} <CanaryStateBadge state={r.state} />{' '}
                <span className="muted small">
                  {formatTime(r.startedAt)}
                  {r.finishedAt && <> – {formatTime(r.finishedAt)}</>} · {r.startedBy}
                </span>
                {r.reason && <div className="small">{r.reason}</div>}
              </summary>
              <CanaryChecks checks={r.checks} caption={`Checks of run ${r.id}`} />
            </details>
          </li>
        ))}
      </ul>
    </section>
  );
}
