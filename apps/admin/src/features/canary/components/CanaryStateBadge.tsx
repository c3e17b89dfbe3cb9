import type { CanaryRunState } from '../../../api/types';

export interface CanaryStateBadgeProps {
  state: CanaryRunState;
}

const TONE: Record<CanaryRunState, string> = { RUNNING: 'warn', PROMOTED: 'ok', ROLLED_BACK: 'bad', ABORTED: 'neutral', FAILED: 'bad' };

export function CanaryStateBadge({ state }: CanaryStateBadgeProps) {
  return <span className={`badge badge-${TONE[state]}`}>{state}</span>;
}
