import { useState } from 'react';
import type { RolloutView } from '../../../api/types';
import { ConfirmDialog } from '../../../ui/ConfirmDialog';
import { InlineError } from '../../../ui/QueryStates';
import { useRolloutAction, type RolloutAction } from '../hooks/use-rollout';

export interface RolloutActionsProps {
  model: string;
  rollout: RolloutView | null;
  onDone: (message: string) => void;
  /** A canary run drives the rollout: the server refuses these (409) until it ends. */
  locked?: boolean;
}

const QUESTIONS: Record<RolloutAction, { title: (m: string, r: RolloutView | null) => string; body: string; done: string }> = {
  promote: {
    title: (m, r) => `Promote canary v${r?.canary} of ${m} to stable?`,
    body: 'The stable label moves to the canary and the canary is cleared: all traffic that is not pinned goes to it.',
    done: 'Promoted the canary to stable.',
  },
  rollback: {
    title: (m, r) => `Roll back canary v${r?.canary} of ${m}?`,
    body: 'The canary is cleared and all its traffic returns to stable. Stable is not touched.',
    done: 'Rolled back: the canary is cleared.',
  },
  clear: {
    title: (m) => `Clear the rollout of ${m}?`,
    body: 'Canary, cohort pins, shadow and sticky settings are removed; every request goes to the stable label.',
    done: 'Cleared the rollout.',
  },
};

/** Promote, roll back and clear: each asks first, since each moves live traffic at once. */
export function RolloutActions({ model, rollout, onDone, locked = false }: RolloutActionsProps) {
  const action = useRolloutAction(model);
  const [asking, setAsking] = useState<RolloutAction | null>(null);
  const hasCanary = rollout?.canary !== undefined;
  const busy = locked || action.isPending;

  const confirm = () => {
    if (!asking) return;
    const done = QUESTIONS[asking].done;
    action.mutate(asking, { onSuccess: () => onDone(done), onSettled: () => setAsking(null) });
  };

  return (
    <section className="card" aria-labelledby="rollout-actions-heading">
      <h2 id="rollout-actions-heading">Actions</h2>
      <div className="form-actions">
        <button type="button" disabled={!hasCanary || busy} onClick={() => setAsking('promote')}>
          Promote canary
        </button>
        <button type="button" className="secondary" disabled={!hasCanary || busy} onClick={() => setAsking('rollback')}>
          Roll back
        </button>
        <button type="button" className="danger" disabled={!rollout || busy} onClick={() => setAsking('clear')}>
          Clear rollout
        </button>
      </div>
      {!hasCanary && !locked && <p className="muted small">Promote and roll back need a canary.</p>}
      <InlineError error={action.error} />
      {asking && (
        <ConfirmDialog title={QUESTIONS[asking].title(model, rollout)} busy={action.isPending} onCancel={() => setAsking(null)} onConfirm={confirm}>
          <p>{QUESTIONS[asking].body}</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
