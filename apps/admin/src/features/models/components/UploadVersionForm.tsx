import { useId, useRef, useState, type FormEvent } from 'react';
import type { VersionView } from '../../../api/types';
import { versionName } from '../../../ui/format';
import { InlineError } from '../../../ui/QueryStates';
import { useRegisterVersion } from '../hooks/use-models';

export interface UploadVersionFormProps {
  /** Existing model names, offered as suggestions; a new name registers a new model. */
  models: string[];
}

/**
 * POST /models/:model/versions as multipart: `files` (servable.json, model.json, *.bin)
 * and `tokenizer` (tokenizer.json). The server validates everything (manifest, tokenizer
 * hash, weights, a warm-up prediction); its message is shown in place.
 */
export function UploadVersionForm({ models }: UploadVersionFormProps) {
  const register = useRegisterVersion();
  const formRef = useRef<HTMLFormElement>(null);
  const [model, setModel] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [tokenizer, setTokenizer] = useState<File | null>(null);
  const [registered, setRegistered] = useState<VersionView | null>(null);
  const uid = useId();
  const errorId = `${uid}-error`;

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (!model.trim() || files.length === 0 || !tokenizer) return;
    setRegistered(null);
    register.mutate(
      { model: model.trim(), files, tokenizer },
      {
        onSuccess: (v) => {
          setRegistered(v);
          setFiles([]);
          setTokenizer(null);
          formRef.current?.reset();
        },
      },
    );
  };

  return (
    <section className="card" aria-labelledby={`${uid}-title`}>
      <h2 id={`${uid}-title`}>Register a new version</h2>
      <form ref={formRef} onSubmit={onSubmit} className="upload-form" aria-describedby={register.error ? errorId : undefined}>
        <div className="field">
          <label htmlFor={`${uid}-model`}>Model name</label>
          <input
            id={`${uid}-model`}
            list={`${uid}-models`}
            value={model}
            onChange={(e) => setModel(e.target.value)}
            required
          />
          <datalist id={`${uid}-models`}>
            {models.map((m) => (
              <option key={m} value={m} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor={`${uid}-files`}>Version files (servable.json, model.json, *.bin)</label>
          <input id={`${uid}-files`} type="file" multiple onChange={(e) => setFiles(Array.from(e.target.files ?? []))} />
        </div>
        <div className="field">
          <label htmlFor={`${uid}-tokenizer`}>Tokenizer (tokenizer.json)</label>
          <input
            id={`${uid}-tokenizer`}
            type="file"
            accept=".json,application/json"
            onChange={(e) => setTokenizer(e.target.files?.[0] ?? null)}
          />
        </div>
        {/* The file inputs are not `required`: this button stays disabled until every field is there. */}
        <button type="submit" disabled={register.isPending || !model.trim() || files.length === 0 || !tokenizer}>
          {register.isPending ? 'Uploading…' : 'Upload version'}
        </button>
        <InlineError error={register.error} id={errorId} />
        {registered && (
          <p role="status">
            Registered {registered.model} {versionName(registered.version)} ({registered.state}). It is pinned, so it loads; move a label to it
            once it is AVAILABLE.
          </p>
        )}
      </form>
    </section>
  );
}
