import { INT32_MAX, ServableError } from '@servable/contracts';

// Path and query parameters of the admin API arrive as text; these turn them into what the
// services take, or answer 400 saying what was expected.

/**
 * An id or version in the path. Any positive whole number is well formed: one beyond the
 * int32 columns names nothing, and the service answers 404 as for any other unknown id.
 */
export function pathId(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) === 0) throw ServableError.invalid(`${what} must be a positive whole number, got "${text}"`);
  return Number(text);
}

/**
 * A positive number in the query (a version, a page size, an id to page from). Bounded to
 * the int32 columns it is compared with: PostgreSQL refuses a larger one outright.
 */
export function positiveInt(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) === 0 || Number(text) > INT32_MAX) {
    throw ServableError.invalid(`${what} must be a whole number from 1 to ${INT32_MAX}, got "${text}"`);
  }
  return Number(text);
}

/** ISO 8601 or epoch milliseconds; `fallback` (epoch ms) when absent. */
export function time(text: string | undefined, what: string, fallback: number): Date {
  if (text === undefined || text === '') return new Date(fallback);
  // Digits beyond a Date's range (±8.64e15 ms) give an invalid Date too, which would fail later as a 500.
  const date = new Date(/^\d+$/.test(text) ? Number(text) : Date.parse(text));
  if (Number.isNaN(date.getTime())) throw ServableError.invalid(`${what} must be ISO 8601 or epoch milliseconds, got "${text}"`);
  return date;
}
