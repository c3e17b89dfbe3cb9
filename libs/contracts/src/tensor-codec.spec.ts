import { describe, expect, it } from 'vitest';
import { ErrorCode } from './error-code';
import { ServableError } from './servable-error';
import { bytesToFloat32, bytesToInt32, float32ToBytes, int32ToBytes, packRagged, unpackRagged } from './tensor-codec';

describe('tensor codecs', () => {
  it('packs int32 as little-endian bytes', () => {
    const bytes = int32ToBytes(new Int32Array([1, -2, 30522]));
    expect([...bytes]).toEqual([1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0x3a, 0x77, 0, 0]);
  });

  it('round-trips int32 and float32, including extremes', () => {
    const ints = new Int32Array([0, 1, -1, 2 ** 31 - 1, -(2 ** 31)]);
    expect(bytesToInt32(int32ToBytes(ints))).toEqual(ints);
    const floats = new Float32Array([0, 0.5, -1e-7, 3.4e38, Number.NaN]);
    expect(bytesToFloat32(float32ToBytes(floats))).toEqual(floats);
  });

  it('decodes from an unaligned offset, as protobuf hands out sub-buffers', () => {
    const backing = Buffer.alloc(13);
    int32ToBytes(new Int32Array([7, 8, 9])).copy(backing, 1);
    expect([...bytesToInt32(backing.subarray(1))]).toEqual([7, 8, 9]);
  });

  it('rejects a byte length that is not a multiple of 4 as INVALID_ARGUMENT', () => {
    const attempt = () => bytesToInt32(Buffer.alloc(6));
    expect(attempt).toThrow(ServableError);
    expect(attempt).toThrow(/not a multiple of 4/);
    try {
      attempt();
    } catch (e) {
      expect((e as ServableError).code).toBe(ErrorCode.INVALID_ARGUMENT);
    }
  });

  it('packs and unpacks ragged rows without padding', () => {
    const packed = packRagged([[101, 7592, 102], [101, 102], []]);
    expect(packed.rowLengths).toEqual([3, 2, 0]);
    expect([...packed.values]).toEqual([101, 7592, 102, 101, 102]);
    expect(unpackRagged(packed).map((r) => [...r])).toEqual([[101, 7592, 102], [101, 102], []]);
  });

  it('refuses ragged lengths that do not add up', () => {
    expect(() => unpackRagged({ values: new Int32Array(3), rowLengths: [2, 2] })).toThrow(/sum to 4 but 3/);
  });
});
