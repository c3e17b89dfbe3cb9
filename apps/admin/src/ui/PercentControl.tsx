import { useState } from 'react';

export interface PercentControlProps {
  id: string;
  /** The number input's label, e.g. "Canary weight (%)". */
  label: string;
  /** The slider's accessible name; distinct from `label` so each control has one name. */
  sliderLabel: string;
  value: number;
  onChange: (value: number) => void;
  disabled?: boolean;
}

/**
 * A slider and a number input on one value 0..100. The number input keeps its own text
 * while it is being typed in, so clearing it to type "25" does not snap to 0 in between;
 * anything out of range is shown as invalid and not applied.
 */
export function PercentControl({ id, label, sliderLabel, value, onChange, disabled = false }: PercentControlProps) {
  const [text, setText] = useState(String(value));
  const [shown, setShown] = useState(value);
  if (shown !== value) {
    // The value moved from elsewhere (the slider, a reset): show it.
    setShown(value);
    setText(String(value));
  }
  const n = Number(text);
  const invalid = text.trim() === '' || !Number.isFinite(n) || n < 0 || n > 100;

  const onText = (next: string) => {
    setText(next);
    const parsed = Number(next);
    if (next.trim() !== '' && Number.isFinite(parsed) && parsed >= 0 && parsed <= 100) {
      setShown(parsed);
      onChange(parsed);
    }
  };

  return (
    <div className="percent-control">
      <label htmlFor={id}>{label}</label>
      <div className="percent-inputs">
        <input
          type="range"
          min={0}
          max={100}
          step={1}
          value={value}
          aria-label={sliderLabel}
          disabled={disabled}
          onChange={(e) => onChange(Number(e.target.value))}
        />
        <input
          id={id}
          type="number"
          min={0}
          max={100}
          step="any"
          inputMode="decimal"
          value={text}
          disabled={disabled}
          aria-invalid={invalid || undefined}
          aria-describedby={invalid ? `${id}-hint` : undefined}
          onChange={(e) => onText(e.target.value)}
          onBlur={() => setText(String(value))}
        />
      </div>
      {invalid && !disabled && (
        <span id={`${id}-hint`} className="inline-error small">
          A percentage from 0 to 100.
        </span>
      )}
    </div>
  );
}
