import * as protoLoader from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../error-code';
import { ServableError } from '../servable-error';
import { int64Field, int64ToNumber } from './int64';
import { LOADER_OPTIONS, PROTO_FILES, protoRoot } from './proto-files';

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

describe('int64Field', () => {
  it('puts a number on the wire exactly as its decimal string would, and a reader gets the string back', () => {
    const definition = protoLoader.loadSync(PROTO_FILES.inference, { ...LOADER_OPTIONS, includeDirs: [protoRoot()] });
    const predict = definition['servable.inference.v1.InferenceService'] as protoLoader.ServiceDefinition;
    const { responseSerialize, responseDeserialize } = predict['Predict'];
    const answer = (int64: (n: number) => string) => ({
      modelSpec: { name: 'spam', version: int64(2) },
      outputs: { probabilities: { dtype: 'DATA_TYPE_FLOAT32', shape: [int64(3), int64(2)], data: Buffer.alloc(24) } },
      timing: { queueUs: int64(1_234_567), computeUs: int64(2 ** 40), batchSize: 3, paddingRatio: 0 },
      backend: 'wasm',
    });
    const bytes = responseSerialize(answer(int64Field));
    expect(bytes).toEqual(responseSerialize(answer(String)));
    expect(responseDeserialize(bytes)).toMatchObject({ modelSpec: { version: '2' }, outputs: { probabilities: { shape: ['3', '2'] } }, timing: { queueUs: '1234567', computeUs: String(2 ** 40) } });
  });
});
