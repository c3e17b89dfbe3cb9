export interface ModelSelectProps {
  id: string;
  models: string[];
  value: string;
  onChange: (model: string) => void;
}

export function ModelSelect({ id, models, value, onChange }: ModelSelectProps) {
  return (
    <div className="field">
      <label htmlFor={id}>Model</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {models.map((m) => (
          <option key={m} value={m}>
            {m}
          </option>
        ))}
      </select>
    </div>
  );
}
