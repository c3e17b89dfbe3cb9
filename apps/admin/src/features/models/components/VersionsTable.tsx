import { useState } from 'react';
import type { ModelView, VersionView } from '../../../api/types';
import { ConfirmDialog } from '../../../ui/ConfirmDialog';
import { formatTime, shortHash, versionName } from '../../../ui/format';
import { EmptyState, InlineError } from '../../../ui/QueryStates';
import { StatusBadge } from '../../../ui/StatusBadge';
import { useSetPinned } from '../hooks/use-models';
import { ReplicaSummary } from './ReplicaSummary';

export interface VersionsTableProps {
  model: ModelView;
}

export function VersionsTable({ model }: VersionsTableProps) {
  const setPinned = useSetPinned();
  const [confirmUnload, setConfirmUnload] = useState<VersionView | null>(null);
  const [failed, setFailed] = useState<{ version: number; pinned: boolean } | null>(null);

  const pin = (v: VersionView, pinned: boolean) => {
    setFailed(null);
    setPinned.mutate(
      { model: model.name, version: v.version, pinned },
      {
        onError: () => setFailed({ version: v.version, pinned }),
        onSettled: () => setConfirmUnload(null),
      },
    );
  };

  if (model.versions.length === 0) return <EmptyState>{model.name} has no versions yet.</EmptyState>;
  const versions = [...model.versions].sort((a, b) => b.version - a.version);

  return (
    <>
      <div className="table-wrap">
        <table aria-label={`Versions of ${model.name}`}>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">State</th>
              <th scope="col">Labels</th>
              <th scope="col">Tokenizer</th>
              <th scope="col">Created</th>
              <th scope="col">Loaded by pin</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.version} data-testid={`version-row-${model.name}-${v.version}`}>
                <th scope="row">{versionName(v.version)}</th>
                <td>
                  <StatusBadge status={v.state} />
                  {v.stateDetail && <div className="muted small">{v.stateDetail}</div>}
                  <ReplicaSummary version={v} />
                </td>
                <td>
                  {v.labels.length === 0 ? (
                    <span className="muted">—</span>
                  ) : (
                    v.labels.map((l) => (
                      <span key={l} className="chip">
                        {l}
                      </span>
                    ))
                  )}
                </td>
                <td>
                  <code title={v.tokenizerHash}>{shortHash(v.tokenizerHash)}</code>
                </td>
                <td>{formatTime(v.createdAt)}</td>
                <td>
                  {v.pinned ? (
                    <button
                      type="button"
                      className="secondary"
                      aria-label={`Unload ${model.name} ${versionName(v.version)}`}
                      disabled={setPinned.isPending}
                      onClick={() => setConfirmUnload(v)}
                    >
                      Unload
                    </button>
                  ) : (
                    <button
                      type="button"
                      className="secondary"
                      aria-label={`Load ${model.name} ${versionName(v.version)}`}
                      disabled={setPinned.isPending}
                      onClick={() => pin(v, true)}
                    >
                      Load
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {failed && setPinned.error && (
        <div>
          <span className="small">
            Could not {failed.pinned ? 'load' : 'unload'} {versionName(failed.version)}:
          </span>
          <InlineError error={setPinned.error} />
        </div>
      )}
      {confirmUnload && (
        <ConfirmDialog
          title={`Unload ${model.name} ${versionName(confirmUnload.version)}?`}
          busy={setPinned.isPending}
          onCancel={() => setConfirmUnload(null)}
          onConfirm={() => pin(confirmUnload, false)}
        >
          <p>
            The pin is removed. The version stays loaded only while a label or a rollout still names it; otherwise the inference service
            unloads it and it can no longer take traffic.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
