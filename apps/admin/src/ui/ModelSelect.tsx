export interface ModelSelectProps {
  id: string;
  models: string[];
  value: string;
  onChange: (model: string) => void;
}

/**
 * A name that is not a model (a stale link) selects a placeholder: a select with no matching
 * option shows its first one, as if that model had been asked for, and choosing it changed nothing.
 */
export function ModelSelect({ id, models, value, onChange }: ModelSelectProps) {
  const known = models.includes(value);
  return (
    <div className="field">
      <label htmlFor={id}>Model</label>
      <select id={id} value={known ? value : ''} onChange={(e) => onChange(e.target.value)}>
        {!known && (
          <option value="" disabled>
            Choose a model…
          </option>
        )}
        {models.map((m) => (
          <option key={m} value={m}>
            {m}
          </option>
        ))}
      </select>
    </div>
  );
}
