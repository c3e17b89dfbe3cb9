import { hrefFor } from '../../../app/router';
import type { CanaryRunView } from '../../../api/types';
import { versionName } from '../../../ui/format';

export interface CanaryRunNoticeProps {
  run: CanaryRunView;
}

/** Says why the rollout cannot be edited: a running canary run sets its weights step by step. */
export function CanaryRunNotice({ run }: CanaryRunNoticeProps) {
  return (
    <p role="note" className="notice" data-testid="canary-run-notice">
      <strong>Canary run {run.id} drives this rollout.</strong> It is RUNNING: {versionName(run.canary)} takes {run.weight}% of traffic at step{' '}
      {run.stepIndex + 1} of {run.steps.length}. Editing, promote, roll back and clear are off until the run ends.{' '}
      <a href={hrefFor({ page: 'canary', model: run.model })}>Watch or abort the run on the Canary page</a>.
    </p>
  );
}
