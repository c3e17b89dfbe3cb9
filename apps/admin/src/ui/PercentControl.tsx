import { useEffect, useEffectEvent, useState } from 'react';

export interface PercentControlProps {
  id: string;
  /** The number input's label, e.g. "Canary weight (%)". */
  label: string;
  /** The slider's accessible name; distinct from `label` so each control has one name. */
  sliderLabel: string;
  value: number;
  onChange: (value: number) => void;
  /** Told whether the typed text is out of range (or not a number), so a form can hold its submit. */
  onInvalidChange?: (invalid: boolean) => void;
  disabled?: boolean;
}

const isPercent = (text: string): boolean => {
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) && n >= 0 && n <= 100;
};

/**
 * A slider and a number input on one value 0..100. The number input keeps its own text
 * while it is being typed in, so clearing it to type "25" does not snap to 0 in between;
 * anything out of range is shown as invalid and not applied. It stays on screen after the
 * field loses focus: reverting it then made a click on Save look like it did nothing.
 */
export function PercentControl({ id, label, sliderLabel, value, onChange, onInvalidChange, disabled = false }: PercentControlProps) {
  const [text, setText] = useState(String(value));
  const [shown, setShown] = useState(value);
  if (shown !== value) {
    // The value moved from elsewhere (the slider, a reset): show it.
    setShown(value);
    setText(String(value));
  }
  const invalid = !isPercent(text);
  const blocking = invalid && !disabled;

  const report = useEffectEvent((invalidNow: boolean) => onInvalidChange?.(invalidNow));
  useEffect(() => {
    if (!blocking) return;
    report(true);
    return () => report(false);
  }, [blocking]);

  const onText = (next: string) => {
    setText(next);
    if (isPercent(next)) {
      const parsed = Number(next);
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
          onChange={(e) => {
            // Sliding also replaces a bad typed number, even when the value itself does not move.
            setText(e.target.value);
            onChange(Number(e.target.value));
          }}
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
          aria-invalid={blocking || undefined}
          aria-describedby={blocking ? `${id}-hint` : undefined}
          onChange={(e) => onText(e.target.value)}
          // Tidy a valid number ("025" → "25"); a bad one stays, with its message, until fixed.
          onBlur={() => !invalid && setText(String(value))}
        />
      </div>
      {blocking && (
        <p id={`${id}-hint`} role="alert" className="inline-error small">
          {text.trim() === '' ? '' : `${text} is out of range. `}Enter a percentage from 0 to 100.
        </p>
      )}
    </div>
  );
}
