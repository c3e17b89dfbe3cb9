import type { RolloutDraft } from '../rollout-draft';

export interface SplitBarProps {
  draft: RolloutDraft;
  /** Where the `stable` label points, for a rollout that follows it. */
  stableLabel?: number;
  testId: string;
  caption: string;
}

/**
 * The traffic split as a picture: one bar, stable and canary side by side by weight, and
 * the shadow as a dashed band below it (shadow traffic is a copy, not a share of the bar).
 * Cohort pins go before the split, so they are listed, not drawn.
 */
export function SplitBar({ draft, stableLabel, testId, caption }: SplitBarProps) {
  const stable = draft.stable ?? stableLabel;
  const canaryWeight = draft.canary !== null ? draft.canaryWeight : 0;
  const stableWeight = 100 - canaryWeight;
  const stableName = stable !== undefined ? `v${stable}` : 'no stable version';
  const summary = [
    `stable ${stableName} ${stableWeight}%`,
    draft.canary !== null ? `canary v${draft.canary} ${canaryWeight}%` : 'no canary',
    draft.shadow ? `shadow v${draft.shadow.version} mirrors ${draft.shadow.share}%` : 'no shadow',
    draft.sticky ? 'sticky' : 'not sticky',
  ].join(', ');

  return (
    <figure className="split" data-testid={testId}>
      <figcaption>{caption}</figcaption>
      <div className="split-bar" role="img" aria-label={`${caption}: ${summary}`}>
        {stableWeight > 0 && (
          <div className="split-stable" style={{ width: `${stableWeight}%` }} title={`stable ${stableName} · ${stableWeight}%`}>
            {stableWeight >= 20 ? `stable ${stableName} · ${stableWeight}%` : `${stableWeight}%`}
          </div>
        )}
        {canaryWeight > 0 && (
          <div className="split-canary" style={{ width: `${canaryWeight}%` }} title={`canary v${draft.canary} · ${canaryWeight}%`}>
            {/* A narrow segment keeps only what fits; the full text is in the title and the aria-label. */}
            {canaryWeight >= 20 ? `canary v${draft.canary} · ${canaryWeight}%` : `${canaryWeight}%`}
          </div>
        )}
      </div>
      {draft.shadow && (
        <div className="split-shadow-track" aria-hidden="true">
          <div className="split-shadow" style={{ width: `${Math.max(draft.shadow.share, 0)}%` }} />
          <span>
            shadow v{draft.shadow.version} · {draft.shadow.share}% mirrored
          </span>
        </div>
      )}
      <p className="muted small">
        {draft.sticky ? 'Sticky: a caller with a route key keeps its version.' : 'Not sticky: each request is drawn anew.'}
        {draft.cohortRules.length > 0 && ` ${draft.cohortRules.length} cohort pin${draft.cohortRules.length > 1 ? 's' : ''} go first.`}
      </p>
    </figure>
  );
}
