import { useState } from 'react';
import type { ApiKeyView } from '../../../api/types';
import { ConfirmDialog } from '../../../ui/ConfirmDialog';
import { formatTime } from '../../../ui/format';
import { PageHeading } from '../../../ui/PageHeading';
import { EmptyState, ErrorState, InlineError, Loading } from '../../../ui/QueryStates';
import { useApiKeys, useRevokeApiKey } from '../hooks/use-api-keys';
import { CreateKeyForm } from './CreateKeyForm';

export function ApiKeysPage() {
  const keys = useApiKeys();
  const revoke = useRevokeApiKey();
  const [revoking, setRevoking] = useState<ApiKeyView | null>(null);

  const confirmRevoke = () => {
    if (!revoking) return;
    revoke.mutate(revoking.id, { onSettled: () => setRevoking(null) });
  };

  return (
    <>
      <PageHeading intro="Keys for clients, operators and admins. A key is shown once, when it is created.">API keys</PageHeading>
      {/* A refused revoke ("the last active admin key") says nothing true once another key exists: clear it. */}
      <CreateKeyForm onCreated={() => revoke.reset()} />
      {keys.isPending && <Loading label="Loading API keys…" />}
      {keys.isError && <ErrorState title="Could not load the API keys" error={keys.error} onRetry={() => void keys.refetch()} />}
      {keys.data && keys.data.length === 0 && <EmptyState>No API keys yet.</EmptyState>}
      {keys.data && keys.data.length > 0 && (
        <div className="table-wrap">
          <table aria-label="API keys">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data.map((k) => (
                <tr key={k.id}>
                  <th scope="row" className="break-anywhere">
                    {k.name}
                  </th>
                  <td>
                    <code>{k.prefix}…</code>
                  </td>
                  <td>{k.role}</td>
                  <td>
                    {formatTime(k.createdAt)} by <span className="break-anywhere">{k.createdBy}</span>
                  </td>
                  <td>{k.revokedAt ? <span className="badge badge-bad">revoked {formatTime(k.revokedAt)}</span> : <span className="badge badge-ok">active</span>}</td>
                  <td>
                    <button type="button" className="danger" disabled={k.revokedAt !== null || revoke.isPending} aria-label={`Revoke ${k.name} (${k.prefix}…)`} onClick={() => setRevoking(k)}>
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <InlineError error={revoke.error} />
      {revoking && (
        <ConfirmDialog title={`Revoke the key “${revoking.name}”?`} busy={revoke.isPending} onCancel={() => setRevoking(null)} onConfirm={confirmRevoke}>
          <p>
            Every caller using it ({revoking.role}, prefix <code>{revoking.prefix}</code>) is refused from now on. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
