import { useState, type FormEvent } from 'react';
import type { CatalogModelView, CatalogVersionView } from '../../../api/types';
import { shortHash, versionName } from '../../../ui/format';
import { ModelSelect } from '../../../ui/ModelSelect';
import { PageHeading } from '../../../ui/PageHeading';
import { EmptyState, ErrorState, Loading } from '../../../ui/QueryStates';
import type { VersionRun } from '../api/playground-api';
import { useCatalog, useHash, useVersionRuns } from '../hooks/use-playground';
import { disagreement, parsePlaygroundState, playgroundHref, textsFromInput, type PlaygroundState } from '../playground-state';
import { RunErrors } from './RunErrors';
import { VersionResult, VersionTags } from './VersionResult';

export interface PlaygroundPageProps {
  model?: string;
}

interface RunState {
  data?: VersionRun;
  isPending: boolean;
  isFetching: boolean;
  error: unknown;
}

function go(state: PlaygroundState): void {
  window.location.hash = playgroundHref(state);
}

/**
 * Send texts through several versions and see, side by side, what each one's tokenizer
 * made of them and what each predicted. The URL holds the model, texts and versions.
 */
export function PlaygroundPage({ model }: PlaygroundPageProps) {
  const catalog = useCatalog();
  const state = parsePlaygroundState(useHash(), model);
  const models = catalog.data ?? [];
  const current = models.find((m) => m.name === state.model) ?? (state.model ? undefined : models[0]);
  const available = current?.versions.filter((v) => v.state === 'AVAILABLE').map((v) => v.version) ?? [];
  // A version the URL names that the model does not have (any more) is left out, not an error.
  const chosen = (state.versions ?? available).filter((v) => current?.versions.some((x) => x.version === v));
  const runs = useVersionRuns(current?.name, chosen, state.texts);
  const failures = chosen.flatMap((version, j) => (runs[j]?.error ? [{ version, error: runs[j].error }] : []));

  return (
    <>
      <PageHeading intro="One text through every version: the label, scores and latency each gives, and the tokens its tokenizer makes.">Playground</PageHeading>
      {catalog.isPending && <Loading label="Loading the models…" />}
      {catalog.isError && <ErrorState title="Could not load the models" error={catalog.error} onRetry={() => void catalog.refetch()} />}
      {catalog.data && models.length === 0 && <EmptyState>No models are registered yet.</EmptyState>}
      {catalog.data && state.model && !current && <EmptyState>There is no model called “{state.model}”.</EmptyState>}
      {current && (
        <>
          <PlaygroundForm
            key={`${current.name}\n${state.texts.join('\n')}`}
            models={models}
            model={current}
            state={state}
            chosen={chosen}
            onRerun={() => runs.forEach((r) => void r.refetch())}
          />
          {state.texts.length === 0 ? (
            <EmptyState>Enter a text and run it to compare the versions.</EmptyState>
          ) : chosen.length === 0 ? (
            <EmptyState>Pick at least one version.</EmptyState>
          ) : (
            <>
              <RunErrors failures={failures} onRetry={() => runs.filter((r) => r.error).forEach((r) => void r.refetch())} />
              {state.texts.map((text, i) => (
                <TextResults key={i} text={text} index={i} versions={chosen.map((v) => current.versions.find((x) => x.version === v) as CatalogVersionView)} runs={runs} />
              ))}
            </>
          )}
        </>
      )}
    </>
  );
}

interface PlaygroundFormProps {
  models: CatalogModelView[];
  model: CatalogModelView;
  state: PlaygroundState;
  chosen: number[];
  /** Run the same texts again: the URL does not change, so nothing else would. */
  onRerun: () => void;
}

function PlaygroundForm({ models, model, state, chosen, onRerun }: PlaygroundFormProps) {
  const [draft, setDraft] = useState(state.texts.join('\n'));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const next = { ...state, model: model.name, texts: textsFromInput(draft) };
    if (playgroundHref(next) === playgroundHref({ ...state, model: model.name })) onRerun();
    else go(next);
  };
  const toggle = (version: number, on: boolean) => {
    const next = on ? [...chosen, version] : chosen.filter((v) => v !== version);
    go({ ...state, model: model.name, texts: textsFromInput(draft), versions: next.sort((a, b) => a - b) });
  };
  return (
    <form className="card playground-form" onSubmit={submit}>
      {models.length > 1 && (
        <ModelSelect id="playground-model" models={models.map((m) => m.name)} value={model.name} onChange={(name) => go({ model: name, texts: state.texts })} />
      )}
      <div className="field">
        <label htmlFor="playground-texts">Texts, one per line</label>
        <textarea id="playground-texts" rows={4} value={draft} onChange={(e) => setDraft(e.target.value)} />
      </div>
      <fieldset>
        <legend>Versions of {model.name}</legend>
        <ul className="version-picks">
          {model.versions.map((v) => (
            <VersionPick key={v.version} version={v} checked={chosen.includes(v.version)} onChange={(on) => toggle(v.version, on)} />
          ))}
        </ul>
      </fieldset>
      <div className="form-actions">
        <button type="submit" disabled={textsFromInput(draft).length === 0}>
          Run
        </button>
      </div>
    </form>
  );
}

function VersionPick({ version, checked, onChange }: { version: CatalogVersionView; checked: boolean; onChange: (on: boolean) => void }) {
  const available = version.state === 'AVAILABLE';
  const id = `pick-v${version.version}`;
  return (
    <li className="checkbox">
      <input id={id} type="checkbox" checked={checked} disabled={!available && !checked} onChange={(e) => onChange(e.target.checked)} />
      <label htmlFor={id}>
        {versionName(version.version)} <VersionTags version={version} />
        <span className="muted small">
          {available ? '' : `${version.state} · `}tokenizer <code title={version.tokenizerHash}>{shortHash(version.tokenizerHash)}</code>
        </span>
      </label>
    </li>
  );
}

interface TextResultsProps {
  text: string;
  index: number;
  versions: CatalogVersionView[];
  runs: RunState[];
}

function TextResults({ text, index, versions, runs }: TextResultsProps) {
  const answered = versions.flatMap((v, j) => {
    const p = runs[j]?.data?.predictions[index];
    return p ? [{ version: v.version, label: p.label, ids: runs[j].data?.tokenized[index]?.tokens.map((t) => t.id).join(',') ?? '' }] : [];
  });
  const disagree = disagreement(answered);
  const tokenizations = new Set(answered.map((a) => a.ids)).size;
  return (
    <section aria-labelledby={`text-${index}`} className="playground-text">
      <h2 id={`text-${index}`}>Text {index + 1}</h2>
      <blockquote className="playground-quote">{text}</blockquote>
      {disagree ? (
        <p className="verdict verdict-disagree" data-testid={`verdict-${index}`}>
          The versions disagree on this text: {disagree.map((d) => `${versionName(d.version)} says ${d.label}`).join(', ')}.
        </p>
      ) : (
        answered.length > 1 && (
          <p className="verdict verdict-agree" data-testid={`verdict-${index}`}>
            All {answered.length} versions say {answered[0].label}.
          </p>
        )
      )}
      {answered.length > 1 && tokenizations > 1 && <p className="small muted">Their tokenizers split this text differently.</p>}
      <div className="version-results">
        {versions.map((v, j) => (
          <VersionResult key={v.version} text={text} index={index} version={v} run={runs[j]?.data} pending={Boolean(runs[j]?.isFetching)} failed={Boolean(runs[j]?.error)} />
        ))}
      </div>
    </section>
  );
}
