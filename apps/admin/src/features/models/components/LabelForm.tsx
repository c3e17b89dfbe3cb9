import { useState, type FormEvent } from 'react';
import type { ModelView } from '../../../api/types';
import { ConfirmDialog } from '../../../ui/ConfirmDialog';
import { versionName } from '../../../ui/format';
import { InlineError } from '../../../ui/QueryStates';
import { useSetLabels } from '../hooks/use-models';

export interface LabelFormProps {
  model: ModelView;
}

const REMOVE = 'remove';

/**
 * Moves one label. Which versions may take a label (only AVAILABLE ones) is the server's
 * rule; its refusal is shown here, next to the form, rather than guessed at client-side.
 */
export function LabelForm({ model }: LabelFormProps) {
  const setLabels = useSetLabels();
  const [label, setLabel] = useState('stable');
  const [target, setTarget] = useState('');
  const [confirmRemove, setConfirmRemove] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const id = (s: string) => `labels-${model.name}-${s}`;
  const labelName = label.trim();
  const current = model.labels[labelName];

  const apply = () => {
    const value = target === REMOVE ? null : Number(target);
    setDone(null);
    setLabels.mutate(
      { model: model.name, labels: { [labelName]: value } },
      {
        onSuccess: () => {
          setDone(value === null ? `Removed label ${labelName}.` : `${labelName} → ${versionName(value)}.`);
          setTarget('');
        },
        onSettled: () => setConfirmRemove(false),
      },
    );
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (!labelName || target === '') return;
    if (target === REMOVE) setConfirmRemove(true);
    else apply();
  };

  const suggestions = Array.from(new Set(['stable', 'canary', ...Object.keys(model.labels)]));
  return (
    <form className="inline-form" onSubmit={onSubmit} aria-label={`Move a label of ${model.name}`}>
      <div className="field">
        <label htmlFor={id('label')}>Label</label>
        <input id={id('label')} list={id('suggestions')} value={label} onChange={(e) => setLabel(e.target.value)} required />
        <datalist id={id('suggestions')}>
          {suggestions.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
      </div>
      <div className="field">
        <label htmlFor={id('version')}>Points at</label>
        <select id={id('version')} value={target} onChange={(e) => setTarget(e.target.value)} required>
          <option value="">Choose a version…</option>
          {[...model.versions]
            .sort((a, b) => b.version - a.version)
            .map((v) => (
              <option key={v.version} value={String(v.version)}>
                {versionName(v.version)} ({v.state})
              </option>
            ))}
          {current !== undefined && <option value={REMOVE}>none (remove the label)</option>}
        </select>
      </div>
      <button type="submit" disabled={setLabels.isPending || !labelName || target === ''}>
        Move label
      </button>
      {current !== undefined && <span className="muted small">now {versionName(current)}</span>}
      {done && (
        <p role="status" className="small">
          {done}
        </p>
      )}
      <InlineError error={setLabels.error} />
      {confirmRemove && (
        <ConfirmDialog
          title={`Remove the label ${labelName} from ${model.name}?`}
          busy={setLabels.isPending}
          onCancel={() => setConfirmRemove(false)}
          onConfirm={apply}
        >
          <p>Requests that ask for {labelName} will fail with NOT_FOUND until the label points at a version again.</p>
        </ConfirmDialog>
      )}
    </form>
  );
}
