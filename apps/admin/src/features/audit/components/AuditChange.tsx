export interface AuditChangeProps {
  before: unknown;
  after: unknown;
}

const show = (v: unknown) => (v === null || v === undefined ? '—' : JSON.stringify(v));

/** before → after in one line, with the full JSON a click away for long values. */
export function AuditChange({ before, after }: AuditChangeProps) {
  const line = `${show(before)} → ${show(after)}`;
  if (line.length <= 80) return <code className="audit-change">{line}</code>;
  return (
    <details className="audit-change">
      <summary>
        <code>{line.slice(0, 77)}…</code>
      </summary>
      <pre>{`before: ${JSON.stringify(before, null, 2)}\nafter: ${JSON.stringify(after, null, 2)}`}</pre>
    </details>
  );
}
