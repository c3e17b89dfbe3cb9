import { ServableError } from '../servable-error';

/**
 * int64 and uint64 fields travel as decimal strings (proto-loader `longs: String`,
 * ts-proto `forceLong=string`), so a value past 2^53 reaches the code intact. Where
 * the code needs a number (a version, a dimension) it converts here: a value a
 * JS number cannot hold exactly is INVALID_ARGUMENT, never a silently rounded one.
 */
export function int64ToNumber(value: string | number, field: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) {
    throw ServableError.invalid(`${field} is ${value}, outside the range this server handles (±${Number.MAX_SAFE_INTEGER})`);
  }
  return n;
}
