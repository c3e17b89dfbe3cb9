import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../error-code';
import { ServableError } from '../servable-error';
import { int64ToNumber } from './int64';

describe('int64ToNumber', () => {
  it('converts what a number holds exactly, negative dimensions included', () => {
    expect(int64ToNumber('7', 'model_spec.version')).toBe(7);
    expect(int64ToNumber('-1', 'dim.size')).toBe(-1);
    expect(int64ToNumber('9007199254740991', 'v')).toBe(Number.MAX_SAFE_INTEGER);
    expect(int64ToNumber(3, 'v')).toBe(3);
  });

  it('rejects a value past 2^53 as INVALID_ARGUMENT naming the field, instead of rounding it', () => {
    let error: unknown;
    try {
      int64ToNumber('9007199254740993', 'model_spec.version');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ServableError);
    expect((error as ServableError).code).toBe(ErrorCode.INVALID_ARGUMENT);
    expect((error as ServableError).message).toContain('model_spec.version is 9007199254740993');
    expect(() => int64ToNumber('18446744073709551615', 'size')).toThrow(ServableError);
  });
});
