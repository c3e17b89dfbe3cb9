import type { EvaluationView, SplitEvaluationView } from '@servable/contracts/admin-api';

type Json = Record<string, unknown>;

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function numbers(v: unknown): Record<string, number> | undefined {
  if (!isRecord(v)) return undefined;
  const entries = Object.entries(v).filter((e): e is [string, number] => num(e[1]) !== undefined);
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

function split(raw: Json, fallbackName: string): SplitEvaluationView {
  const view: SplitEvaluationView = {
    split: typeof raw.split === 'string' && raw.split ? raw.split : fallbackName,
    description: typeof raw.description === 'string' && raw.description ? raw.description : undefined,
    examples: num(raw.examples),
    accuracy: num(raw.accuracy),
    precision: num(raw.precision),
    recall: num(raw.recall),
    f1: num(raw.f1),
    recallByLabel: numbers(raw.recall_by_label),
    ece: num(raw.ece),
  };
  // Absent stays absent on the wire instead of travelling as undefined/null.
  return Object.fromEntries(Object.entries(view).filter(([, v]) => v !== undefined)) as SplitEvaluationView;
}

/**
 * servable.json's `evaluation` is whatever the trainer wrote (it is free JSON in the
 * manifest schema, and uploads come from other trainers). The admin API answers with
 * one shape: `{ splits: [...] }` as the default model's trainer writes it, and an
 * older flat record ({ accuracy, f1, ... }) as a single split named by its `split`
 * field, or "test". Only finite numbers pass, so the console never renders NaN.
 */
export function evaluationView(raw: Record<string, unknown> | null): EvaluationView | null {
  if (!isRecord(raw)) return null;
  if (Array.isArray(raw.splits)) {
    const splits = raw.splits.filter(isRecord).map((s, i) => split(s, `split ${i + 1}`));
    const temperature = isRecord(raw.calibration) ? num(raw.calibration.temperature) : undefined;
    return temperature === undefined ? { splits } : { splits, temperature };
  }
  const flat = split(raw, 'test');
  return Object.keys(flat).length > 1 ? { splits: [flat] } : { splits: [] };
}
