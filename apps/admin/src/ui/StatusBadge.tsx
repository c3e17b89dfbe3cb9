export interface StatusBadgeProps {
  status: string;
}

const TONE: Record<string, string> = {
  SERVING: 'ok',
  AVAILABLE: 'ok',
  LOADING: 'warn',
  START: 'neutral',
  UNLOADING: 'warn',
  END: 'neutral',
  NOT_SERVING: 'bad',
  UNREACHABLE: 'bad',
  FAILED: 'bad',
};

/** A state in words plus a colour; the word carries the meaning, the colour only helps. */
export function StatusBadge({ status }: StatusBadgeProps) {
  return <span className={`badge badge-${TONE[status] ?? 'neutral'}`}>{status}</span>;
}
