import { ServableError, packRagged, type Ragged } from '@servable/contracts';
import type { ModelInput } from './prediction.types';

/** Rows of ids from JSON: every element a whole number (a float or a string is the wrong dtype). */
export function idsFromRows(rows: unknown, what: string): Ragged {
  if (!Array.isArray(rows)) throw ServableError.invalid(`${what} must be a list of rows of int32 ids`);
  return packRagged(
    rows.map((row, i) => {
      if (!Array.isArray(row)) throw ServableError.invalid(`${what}[${i}] must be a list of int32 ids`);
      return row.map((v, j) => int32(v, `${what}[${i}][${j}]`));
    }),
  );
}

export function int32(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < -2_147_483_648 || value > 2_147_483_647) {
    throw ServableError.invalid(`${where} must be an int32 id, got ${JSON.stringify(value)} (wrong dtype)`);
  }
  return value;
}

export function textList(value: unknown, what: string): string[] {
  if (!Array.isArray(value)) throw ServableError.invalid(`${what} must be a list of strings`);
  return value.map((t, i) => {
    if (typeof t !== 'string') throw ServableError.invalid(`${what}[${i}] must be a string, got ${JSON.stringify(t)} (wrong dtype)`);
    return t;
  });
}

/**
 * A list that is either texts or rows of ids, as TF Serving's instances and
 * inputs may carry either: strings are texts, lists of numbers are ids.
 */
export function textsOrIds(values: unknown[], what: string, tokenizer?: string): ModelInput {
  if (values.length > 0 && values.every((v) => typeof v === 'string')) return { kind: 'texts', texts: values as string[] };
  if (values.length > 0 && values.every((v) => Array.isArray(v))) return { kind: 'ids', ids: idsFromRows(values, what), tokenizer };
  if (values.length === 0) return { kind: 'texts', texts: [] };
  throw ServableError.invalid(`${what} must be all texts (strings) or all rows of int32 ids (lists of integers)`);
}
