import { describe, expect, it } from 'vitest';
import { packRagged, shownValue } from '@servable/contracts';
import { predictRequestSchema } from '@servable/contracts/http';
import { parsePredictBody as parseValidated } from '../http/tfserving-shapes';
import { parseBody } from '../http/validation.pipe';
import { deadlineFrom, parseTimeoutHeader } from '../request-metadata/deadline';
import { flatten, oipModelInput } from './oip-tensors';
import { trimPadding } from './prediction.service';

/** As a request meets it: the validation pipe's parse, then the controller's. */
const parsePredictBody = (body: unknown, tokenizer?: string) => parseValidated(parseBody(predictRequestSchema, body), tokenizer);

describe('request parsing', () => {
  it('reads TF Serving instances and inputs in every accepted form', () => {
    expect(parsePredictBody({ instances: ['a', 'b'] })).toEqual({ format: 'row', input: { kind: 'texts', texts: ['a', 'b'] } });
    expect(parsePredictBody({ instances: [{ text: 'a' }] }).input).toEqual({ kind: 'texts', texts: ['a'] });
    expect(parsePredictBody({ inputs: { text: ['a'] } })).toEqual({ format: 'columnar', input: { kind: 'texts', texts: ['a'] } });
    const ids = parsePredictBody({ inputs: [[1, 2], [3]] }, 'h'.repeat(64)).input;
    expect(ids).toMatchObject({ kind: 'ids', tokenizer: 'h'.repeat(64), ids: { rowLengths: [2, 1] } });
    expect(() => parsePredictBody({ instances: [], inputs: [] })).toThrow(/not both/);
    expect(() => parsePredictBody({ instances: ['a', [1]] })).toThrow(/all texts/);
    expect(() => parsePredictBody({ instances: [['1']] })).toThrow(/wrong dtype/);
    // One named input per instance: a second one is refused, not silently dropped.
    expect(() => parsePredictBody({ instances: [{ text: 'a', input_ids: [2, 3] }] })).toThrow(/each instance must be/);
    // Rows of ids are a dense tensor: trailing pad ids are dropped before the length check, as over gRPC and OIP.
    expect(parsePredictBody({ instances: [[5, 6, 0, 0]] }).input).toMatchObject({ kind: 'ids', padded: true });
    expect(parsePredictBody({ inputs: { input_ids: [[5, 0]] } }).input).toMatchObject({ padded: true });
  });

  it('reads OIP tensors and checks shape against data', () => {
    expect(oipModelInput([{ name: 'text', datatype: 'BYTES', shape: [2, 1], data: ['a', 'b'] }])).toEqual({ kind: 'texts', texts: ['a', 'b'] });
    const ids = oipModelInput([{ name: 'input_ids', datatype: 'INT32', shape: [2, 2], data: [1, 2, 3, 0] }]);
    expect(ids).toMatchObject({ kind: 'ids', padded: true, ids: { rowLengths: [2, 2] } });
    expect(() => oipModelInput([{ name: 'x', datatype: 'INT32', shape: [2, 2], data: [1, 2, 3] }])).toThrow(/holds 4 elements but 3/);
    expect(() => oipModelInput([{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }])).toThrow(/wrong dtype/);
  });

  it('refuses an OIP input the model does not have, as Triton does, naming the two it has', () => {
    expect(() => oipModelInput([{ name: 'INPUT0', datatype: 'BYTES', shape: [1], data: ['a'] }])).toThrow(
      'unexpected inference input "INPUT0" (BYTES): the model takes "text" (BYTES texts) or "input_ids" (INT32 ids); BYTES goes in "text"',
    );
    expect(() => oipModelInput([{ name: 'text', datatype: 'INT32', shape: [1, 2], data: [1, 2] }])).toThrow(/unexpected inference input "text" \(INT32\).*INT32 goes in "input_ids"/);
  });

  it('answers absurd JSON with 400 messages of a bounded size, never a stack overflow', () => {
    let deep: unknown = [];
    for (let i = 0; i < 50_000; i++) deep = [deep];
    expect(() => flatten([deep])).toThrow(/nested more than 32 lists deep/);
    expect(shownValue(deep)).toBe('a nested list');
    const shown = shownValue('x'.repeat(900_000));
    expect(shown.length).toBeLessThan(200);
    expect(shown).toMatch(/… \(900002 characters\)$/);
    expect(() => parsePredictBody({ instances: [['x'.repeat(10_000)]] })).toThrow(/^(?=.{0,400}$).*wrong dtype/s);
  });

  it('drops trailing pad ids but keeps at least one id per row', () => {
    const out = trimPadding(packRagged([[5, 6, 0, 0], [0, 0, 0], [7, 0, 8]]), 0);
    expect(out.rowLengths).toEqual([2, 1, 3]);
    expect([...out.values]).toEqual([5, 6, 0, 7, 0, 8]);
  });

  it('takes the caller deadline, capped, or the default', () => {
    expect(deadlineFrom(undefined, 5_000, 60_000, 1_000)).toBe(6_000);
    expect(deadlineFrom(200, 5_000, 60_000, 1_000)).toBe(1_200);
    expect(deadlineFrom(10 ** 9, 5_000, 60_000, 0)).toBe(60_000);
    expect(parseTimeoutHeader('250')).toBe(250);
    expect(() => parseTimeoutHeader('soon')).toThrow(/whole number/);
  });
});
