import { useState, type FormEvent } from 'react';
import type { ModelView, RolloutView } from '../../../api/types';
import { PercentControl } from '../../../ui/PercentControl';
import { InlineError } from '../../../ui/QueryStates';
import { useSaveRollout } from '../hooks/use-rollout';
import { diffDrafts, draftFromRollout, draftToInput, type RolloutDraft } from '../rollout-draft';
import { CohortRulesEditor } from './CohortRulesEditor';
import { SplitBar } from './SplitBar';

export interface RolloutEditorProps {
  model: ModelView;
  rollout: RolloutView | null;
  onSaved: (message: string) => void;
  /** A canary run drives the rollout: the server refuses edits (409), so none are offered. */
  locked?: boolean;
}

type PercentField = 'canary weight' | 'shadow share';

const parseVersion = (s: string): number | null => (s === '' ? null : Number(s));

/**
 * Edits a copy of the rollout and shows what saving would change before it is saved. The
 * page remounts this editor when the stored rollout changes, so the copy starts fresh.
 */
export function RolloutEditor({ model, rollout, onSaved, locked = false }: RolloutEditorProps) {
  const current = draftFromRollout(rollout);
  const [draft, setDraft] = useState<RolloutDraft>(current);
  // Percent fields whose typed text is out of range: it is not in the draft, so saving would drop it unsaid.
  const [badFields, setBadFields] = useState<PercentField[]>([]);
  // Discarding remounts the percent inputs, which drops a bad text the draft never held.
  const [resets, setResets] = useState(0);
  const save = useSaveRollout(model.name);
  const stableLabel = model.labels['stable'];
  const changes = diffDrafts(current, draft, stableLabel);
  const versions = [...model.versions].sort((a, b) => a.version - b.version);
  const update = (patch: Partial<RolloutDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const markBad = (field: PercentField) => (bad: boolean) =>
    setBadFields((fields) => (bad ? [...fields.filter((f) => f !== field), field] : fields.filter((f) => f !== field)));
  const canSave = !locked && changes.length > 0 && badFields.length === 0 && !save.isPending;

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (!canSave) return;
    save.mutate(draftToInput(draft), { onSuccess: () => onSaved(`Saved the rollout of ${model.name}.`) });
  };

  const versionOptions = versions.map((v) => (
    <option key={v.version} value={String(v.version)}>
      v{v.version} ({v.state})
    </option>
  ));

  return (
    <form onSubmit={onSubmit} className="card rollout-editor" aria-labelledby="rollout-edit-heading">
      <h2 id="rollout-edit-heading">Edit the rollout</h2>
      <fieldset className="plain" disabled={locked}>
        <fieldset>
          <legend>Split</legend>
          <div className="inline-form">
            <div className="field">
              <label htmlFor="rollout-stable">Stable version</label>
              <select id="rollout-stable" value={draft.stable ?? ''} onChange={(e) => update({ stable: parseVersion(e.target.value) })}>
                <option value="">follow the stable label{stableLabel !== undefined ? ` (v${stableLabel})` : ''}</option>
                {versionOptions}
              </select>
            </div>
            <div className="field">
              <label htmlFor="rollout-canary">Canary version</label>
              <select
                id="rollout-canary"
                value={draft.canary ?? ''}
                onChange={(e) => {
                  const canary = parseVersion(e.target.value);
                  update(canary === null ? { canary, canaryWeight: 0 } : { canary });
                }}
              >
                <option value="">none</option>
                {versionOptions}
              </select>
            </div>
          </div>
          <PercentControl
            key={`canary-weight-${resets}`}
            id="rollout-canary-weight"
            label="Canary weight (%)"
            sliderLabel="Canary weight slider"
            value={draft.canaryWeight}
            disabled={draft.canary === null}
            onChange={(canaryWeight) => update({ canaryWeight })}
            onInvalidChange={markBad('canary weight')}
          />
          {draft.canary === null && <p className="muted small">Choose a canary version to give it a weight.</p>}
          <div className="checkbox">
            <input id="rollout-sticky" type="checkbox" checked={draft.sticky} onChange={(e) => update({ sticky: e.target.checked })} />
            <label htmlFor="rollout-sticky">Sticky (a caller with a route key keeps its version)</label>
          </div>
        </fieldset>

        <CohortRulesEditor rules={draft.cohortRules} versions={versions} onChange={(cohortRules) => update({ cohortRules })} />

        <fieldset>
          <legend>Shadow</legend>
          <div className="field">
            <label htmlFor="rollout-shadow">Shadow version</label>
            <select
              id="rollout-shadow"
              value={draft.shadow?.version ?? ''}
              onChange={(e) => {
                const version = parseVersion(e.target.value);
                update({ shadow: version === null ? null : { version, share: draft.shadow?.share ?? 10 } });
              }}
            >
              <option value="">none</option>
              {versionOptions}
            </select>
          </div>
          <PercentControl
            key={`shadow-share-${resets}`}
            id="rollout-shadow-share"
            label="Shadow share (%)"
            sliderLabel="Shadow share slider"
            value={draft.shadow?.share ?? 0}
            disabled={draft.shadow === null}
            onChange={(share) => draft.shadow && update({ shadow: { version: draft.shadow.version, share } })}
            onInvalidChange={markBad('shadow share')}
          />
          <p className="muted small">The shadow gets a copy of this share of requests; its answers are compared, never returned.</p>
        </fieldset>

        <section aria-labelledby="rollout-preview-heading" className="preview">
          <h3 id="rollout-preview-heading">Preview</h3>
          <SplitBar draft={draft} stableLabel={stableLabel} testId="rollout-split-edited" caption="After saving" />
          <div data-testid="rollout-diff" aria-live="polite">
            {changes.length === 0 ? (
              <p className="muted">No changes yet.</p>
            ) : (
              <table className="diff" aria-label="Changes to save">
                <thead>
                  <tr>
                    <th scope="col">Setting</th>
                    <th scope="col">Now</th>
                    <th scope="col">After saving</th>
                  </tr>
                </thead>
                <tbody>
                  {changes.map((c) => (
                    <tr key={`${c.field}|${c.before}|${c.after}`}>
                      <th scope="row">{c.field}</th>
                      <td className="diff-before">{c.before}</td>
                      <td className="diff-after">{c.after}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        </section>

        <div className="form-actions">
          <button type="submit" disabled={!canSave} aria-describedby={badFields.length > 0 ? 'rollout-save-blocked' : undefined}>
            {save.isPending ? 'Saving…' : 'Save rollout'}
          </button>
          <button
            type="button"
            className="secondary"
            disabled={(changes.length === 0 && badFields.length === 0) || save.isPending}
            onClick={() => {
              setDraft(current);
              setResets((n) => n + 1);
            }}
          >
            Discard changes
          </button>
          {badFields.length > 0 && (
            <span id="rollout-save-blocked" className="inline-error small">
              Save is off until the {badFields.join(' and ')} {badFields.length > 1 ? 'are' : 'is'} from 0 to 100.
            </span>
          )}
        </div>
      </fieldset>
      <InlineError error={save.error} />
    </form>
  );
}
