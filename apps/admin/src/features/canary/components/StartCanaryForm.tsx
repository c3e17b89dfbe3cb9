import { useState, type FormEvent } from 'react';
import type { ModelView } from '../../../api/types';
import { versionName } from '../../../ui/format';
import { InlineError } from '../../../ui/QueryStates';
import { DEFAULT_DRAFT, inputFromDraft, type CanaryDraft } from '../canary-draft';
import { useStartCanaryRun } from '../hooks/use-canary';

export interface StartCanaryFormProps {
  model: ModelView;
  onStarted: (message: string) => void;
  /** The version the run would compare against: the rollout's stable, else the `stable` label. */
  stable: number;
}

/** Starts a run. Which versions may be a canary (AVAILABLE, not stable) the server decides too; its refusal shows here. */
export function StartCanaryForm({ model, stable, onStarted }: StartCanaryFormProps) {
  const start = useStartCanaryRun(model.name);
  const candidates = model.versions.filter((v) => v.state === 'AVAILABLE' && v.version !== stable).sort((a, b) => b.version - a.version);
  const [draft, setDraft] = useState<CanaryDraft>({ ...DEFAULT_DRAFT, canary: candidates[0] ? String(candidates[0].version) : '' });
  const [invalid, setInvalid] = useState<string | null>(null);
  const set = (patch: Partial<CanaryDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const id = (s: string) => `canary-${s}`;

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const input = inputFromDraft(draft);
    if (typeof input === 'string') {
      setInvalid(input);
      return;
    }
    setInvalid(null);
    start.mutate(input, { onSuccess: (run) => onStarted(`Started run ${run.id}: ${versionName(run.canary)} takes ${run.weight}% of traffic.`) });
  };

  const field = (name: keyof CanaryDraft, label: string, hint?: string, type = 'text') => (
    <div className="field">
      <label htmlFor={id(name)}>{label}</label>
      <input id={id(name)} type={type} step="any" value={String(draft[name])} onChange={(e) => set({ [name]: e.target.value })} aria-describedby={hint ? id(`${name}-hint`) : undefined} />
      {hint && (
        <span id={id(`${name}-hint`)} className="muted small">
          {hint}
        </span>
      )}
    </div>
  );

  return (
    <section className="card" aria-labelledby="canary-start-heading">
      <h2 id="canary-start-heading">Start a canary run</h2>
      {candidates.length === 0 && <p className="muted">No AVAILABLE version other than stable: upload one, or pin it to have it loaded.</p>}
      <form className="upload-form" onSubmit={onSubmit} aria-label={`Start a canary run of ${model.name}`}>
        <div className="field">
          <label htmlFor={id('canary')}>Canary version</label>
          <select id={id('canary')} value={draft.canary} onChange={(e) => set({ canary: e.target.value })} required>
            <option value="">Choose a version…</option>
            {candidates.map((v) => (
              <option key={v.version} value={String(v.version)}>
                {versionName(v.version)}
              </option>
            ))}
          </select>
        </div>
        {field('steps', 'Steps (weight %)', 'ascending, ending at 100')}
        {field('stepSeconds', 'Step duration (s)', undefined, 'number')}
        {field('minRequests', 'Min requests per step', 'fewer extend the step', 'number')}
        {field('maxErrorRatePercent', 'Max error rate (%)', 'fails only if also significantly above stable', 'number')}
        {field('maxP99Ratio', 'Max p99 ratio', 'canary p99 ÷ stable p99', 'number')}
        {field('minAgreementPercent', 'Min agreement (%)', 'same top label as stable', 'number')}
        {field('mirrorShare', 'Mirror share (%)', 'canary requests also sent to stable', 'number')}
        <label className="checkbox">
          <input type="checkbox" checked={draft.sticky} onChange={(e) => set({ sticky: e.target.checked })} /> Sticky (a route key keeps its version)
        </label>
        <div className="form-actions">
          <button type="submit" disabled={start.isPending || candidates.length === 0}>
            Start run
          </button>
        </div>
        {invalid && (
          <p role="alert" className="inline-error">
            {invalid}
          </p>
        )}
        <InlineError error={start.error} />
      </form>
    </section>
  );
}
