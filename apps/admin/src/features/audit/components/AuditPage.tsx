import { useState, type FormEvent } from 'react';
import { AUDIT_ACTIONS, type AuditQuery } from '../../../api/types';
import { formatTime } from '../../../ui/format';
import { PageHeading } from '../../../ui/PageHeading';
import { EmptyState, ErrorState, Loading } from '../../../ui/QueryStates';
import { useAudit } from '../hooks/use-audit';
import { AuditChange } from './AuditChange';

export const AUDIT_PAGE_SIZE = 25;

interface Filters {
  actor: string;
  action: string;
  target: string;
}

const EMPTY: Filters = { actor: '', action: '', target: '' };

/**
 * The audit log, newest first. Paging is keyset: "Older" asks for events before the last
 * id seen (nextBeforeId), and the ids of the pages already seen are kept so "Newer" can
 * step back without offsets.
 */
export function AuditPage() {
  const [form, setForm] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  // beforeId of each page opened so far; the first page has none.
  const [cursors, setCursors] = useState<Array<number | undefined>>([undefined]);
  const beforeId = cursors[cursors.length - 1];
  const query: AuditQuery = {
    actor: filters.actor || undefined,
    action: filters.action || undefined,
    target: filters.target || undefined,
    limit: AUDIT_PAGE_SIZE,
    beforeId,
  };
  const audit = useAudit(query);
  const page = audit.data;

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters({ actor: form.actor.trim(), action: form.action, target: form.target.trim() });
    setCursors([undefined]);
  };
  const clear = () => {
    setForm(EMPTY);
    setFilters(EMPTY);
    setCursors([undefined]);
  };

  return (
    <>
      <PageHeading intro="Every change made through the admin API: who, what, before and after.">Audit log</PageHeading>
      <form className="inline-form card" onSubmit={apply} aria-label="Filter the audit log">
        <div className="field">
          <label htmlFor="audit-actor">Actor</label>
          <input id="audit-actor" value={form.actor} onChange={(e) => setForm({ ...form, actor: e.target.value })} placeholder="e.g. key:1:admin or anonymous" />
        </div>
        <div className="field">
          <label htmlFor="audit-action">Action</label>
          <select id="audit-action" value={form.action} onChange={(e) => setForm({ ...form, action: e.target.value })}>
            <option value="">any</option>
            {AUDIT_ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="audit-target">Target</label>
          <input id="audit-target" value={form.target} onChange={(e) => setForm({ ...form, target: e.target.value })} placeholder="e.g. model:spam (a prefix)" />
        </div>
        <button type="submit">Filter</button>
        <button type="button" className="secondary" onClick={clear}>
          Clear filters
        </button>
      </form>

      {audit.isPending && <Loading label="Loading the audit log…" />}
      {audit.isError && <ErrorState title="Could not load the audit log" error={audit.error} onRetry={() => void audit.refetch()} />}
      {page && page.events.length === 0 && <EmptyState>No audit events match.</EmptyState>}
      {page && page.events.length > 0 && (
        <div className="table-wrap">
          <table aria-label="Audit events" aria-busy={audit.isPlaceholderData || undefined}>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Change</th>
              </tr>
            </thead>
            <tbody>
              {page.events.map((e) => (
                <tr key={e.id}>
                  <td>
                    <time dateTime={e.at}>{formatTime(e.at)}</time>
                  </td>
                  <td>{e.actor}</td>
                  <td>{e.action}</td>
                  <td>
                    <code>{e.target}</code>
                  </td>
                  <td>
                    <AuditChange before={e.before} after={e.after} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav className="pager" aria-label="Audit pages">
        <button type="button" className="secondary" disabled={cursors.length <= 1 || audit.isFetching} onClick={() => setCursors(cursors.slice(0, -1))}>
          Newer
        </button>
        <span className="muted small">Page {cursors.length}</span>
        <button
          type="button"
          className="secondary"
          disabled={page?.nextBeforeId === undefined || audit.isPlaceholderData || audit.isFetching}
          onClick={() => page?.nextBeforeId !== undefined && setCursors([...cursors, page.nextBeforeId])}
        >
          Older
        </button>
      </nav>
    </>
  );
}
