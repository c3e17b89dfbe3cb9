import { useState } from 'react';
import type { CohortRule, VersionView } from '../../../api/types';
import { HEADER_NAME } from '../rollout-draft';

export interface CohortRulesEditorProps {
  rules: CohortRule[];
  versions: VersionView[];
  onChange: (rules: CohortRule[]) => void;
}

/** Header/value → version pins, tried in order before the canary split. */
export function CohortRulesEditor({ rules, versions, onChange }: CohortRulesEditorProps) {
  const [header, setHeader] = useState('x-cohort');
  const [value, setValue] = useState('');
  const [version, setVersion] = useState('');
  const [problem, setProblem] = useState<string | null>(null);

  const add = () => {
    if (!HEADER_NAME.test(header)) return setProblem('A header name has only letters, digits and dashes.');
    if (!value.trim()) return setProblem('Give the header value to match.');
    if (!version) return setProblem('Choose the version this cohort goes to.');
    if (rules.some((r) => r.header.toLowerCase() === header.toLowerCase() && r.value === value.trim())) {
      return setProblem(`There is already a pin for ${header}: ${value.trim()}.`);
    }
    setProblem(null);
    onChange([...rules, { header, value: value.trim(), version: Number(version) }]);
    setValue('');
  };

  return (
    <fieldset>
      <legend>Cohort pins</legend>
      {rules.length === 0 ? (
        <p className="muted small">No cohort pins: every request goes through the split.</p>
      ) : (
        <ul className="rules" aria-label="Cohort pins">
          {rules.map((r, i) => (
            <li key={`${r.header}\u0000${r.value}`}>
              <code>
                {r.header}: {r.value}
              </code>{' '}
              → v{r.version}
              <button
                type="button"
                className="link-button"
                aria-label={`Remove pin ${r.header}: ${r.value}`}
                onClick={() => onChange(rules.filter((_, j) => j !== i))}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="inline-form">
        <div className="field">
          <label htmlFor="cohort-header">Header</label>
          <input id="cohort-header" value={header} onChange={(e) => setHeader(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="cohort-value">Value</label>
          <input id="cohort-value" value={value} onChange={(e) => setValue(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="cohort-version">Pinned version</label>
          <select id="cohort-version" value={version} onChange={(e) => setVersion(e.target.value)}>
            <option value="">Choose…</option>
            {versions.map((v) => (
              <option key={v.version} value={String(v.version)}>
                v{v.version} ({v.state})
              </option>
            ))}
          </select>
        </div>
        <button type="button" className="secondary" onClick={add}>
          Add pin
        </button>
      </div>
      {problem && (
        <p role="alert" className="inline-error">
          {problem}
        </p>
      )}
    </fieldset>
  );
}
