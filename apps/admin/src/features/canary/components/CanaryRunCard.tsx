import { useState } from 'react';
import type { CanaryRunView } from '../../../api/types';
import { ConfirmDialog } from '../../../ui/ConfirmDialog';
import { formatPercent, formatTime, versionName } from '../../../ui/format';
import { InlineError } from '../../../ui/QueryStates';
import { useAbortCanaryRun } from '../hooks/use-canary';
import { CanaryChecks } from './CanaryChecks';
import { CanaryStateBadge } from './CanaryStateBadge';

export interface CanaryRunCardProps {
  run: CanaryRunView;
  onAborted: (message: string) => void;
}

/** The running run: where it is in its steps, its gates, every check so far, and Abort. */
export function CanaryRunCard({ run, onAborted }: CanaryRunCardProps) {
  const abort = useAbortCanaryRun(run.model);
  const [asking, setAsking] = useState(false);
  const g = run.gates;
  return (
    <section className="card" aria-labelledby="canary-live-heading" data-testid="canary-live">
      <div className="card-title">
        <h2 id="canary-live-heading">
          Run {run.id}: {versionName(run.canary)} against stable {versionName(run.stable)}
        </h2>
        <CanaryStateBadge state={run.state} />
      </div>
      <ol className="canary-steps" aria-label="Steps">
        {run.steps.map((w, i) => (
          <li key={i} className={i < run.stepIndex ? 'done' : i === run.stepIndex && run.state === 'RUNNING' ? 'current' : ''} aria-current={i === run.stepIndex ? 'step' : undefined}>
            {w}%
          </li>
        ))}
      </ol>
      <p data-testid="canary-status">
        Step {run.stepIndex + 1} of {run.steps.length}: the canary takes <strong>{run.weight}%</strong> of traffic
        {run.stepEndsAt && <> until {formatTime(run.stepEndsAt)}</>}. Steps last {run.stepSeconds} s; {run.mirrorShare}% of its requests are also
        sent to stable to compare answers.
      </p>
      <p className="muted small">
        Gates: error rate ≤ {formatPercent(g.maxErrorRate, 2)} unless no worse than stable · p99 ≤ {g.maxP99Ratio} × stable · agreement ≥{' '}
        {formatPercent(g.minAgreement)} · at least {g.minRequests} canary requests per step (up to {run.maxExtensions} extensions).
      </p>
      <CanaryChecks checks={run.checks} caption={`Checks of run ${run.id}`} />
      <div className="form-actions">
        <button type="button" className="danger" disabled={abort.isPending} onClick={() => setAsking(true)}>
          Abort run
        </button>
      </div>
      <InlineError error={abort.error} />
      {asking && (
        <ConfirmDialog
          title={`Abort run ${run.id} of ${run.model}?`}
          busy={abort.isPending}
          onCancel={() => setAsking(false)}
          onConfirm={() =>
            abort.mutate(run.id, {
              onSuccess: () => onAborted(`Aborted run ${run.id}: all traffic is back on stable ${versionName(run.stable)}.`),
              onSettled: () => setAsking(false),
            })
          }
        >
          The canary is cleared at once and all its traffic returns to stable {versionName(run.stable)}.
        </ConfirmDialog>
      )}
    </section>
  );
}
