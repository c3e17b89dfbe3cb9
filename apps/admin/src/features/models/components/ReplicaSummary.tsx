import type { VersionView } from '../../../api/types';

export interface ReplicaSummaryProps {
  version: VersionView;
}

/** "2/2 replicas": how many inference replicas hold the version AVAILABLE, each one named with its state in the list. */
export function ReplicaSummary({ version }: ReplicaSummaryProps) {
  const replicas = version.replicas ?? [];
  if (replicas.length === 0) return null;
  const holding = replicas.filter((r) => r.state === 'AVAILABLE' && r.serving).length;
  return (
    <details className="muted small" data-testid={`replicas-${version.model}-${version.version}`}>
      <summary>
        {holding}/{replicas.length} replica{replicas.length === 1 ? '' : 's'}
      </summary>
      <ul>
        {replicas.map((r) => (
          <li key={r.address}>
            <code>{r.address}</code> {r.state}
            {r.serving ? '' : ' (not serving)'}
            {r.detail ? `: ${r.detail}` : ''}
          </li>
        ))}
      </ul>
    </details>
  );
}
