import { INT32_MAX } from '@servable/contracts';

/**
 * Whether `n` fits an `integer` column. A number outside does not just match no row:
 * PostgreSQL fails the whole query ("out of range for type integer"), which would reach a
 * caller as a 500, so an id that cannot fit is answered as one that does not exist.
 */
export function isInt32(n: number): boolean {
  return Number.isInteger(n) && n >= -INT32_MAX - 1 && n <= INT32_MAX;
}
