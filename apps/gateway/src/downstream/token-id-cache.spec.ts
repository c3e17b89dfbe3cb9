import { describe, expect, it } from 'vitest';
import type { servableCommonV1 } from '@servable/contracts/grpc';
import { raggedOf, TokenIdCache } from './token-id-cache';

/** An Encode answer as grpc-js hands it over: the ids a view at an odd offset of a larger message. */
function answer(rows: number[][]): servableCommonV1.RaggedTensor {
  const ids = Int32Array.from(rows.flat());
  const message = Buffer.alloc(ids.byteLength + 7, 0xee);
  Buffer.from(ids.buffer).copy(message, 3);
  return { dtype: 'DATA_TYPE_INT32', values: message.subarray(3, 3 + ids.byteLength), rowLengths: rows.map((r) => r.length) };
}

const idsOf = (t: servableCommonV1.RaggedTensor) => Array.from(new Int32Array(Uint8Array.from(t.values).buffer));

describe('TokenIdCache', () => {
  it('answers texts it stored under the same scope only', () => {
    const cache = new TokenIdCache(1 << 20);
    const rows = cache.store('hashA/128', ['hello world', 'hi'], answer([[101, 7592, 2088, 102], [101, 7632, 102]]));
    expect(rows.map((r) => Array.from(r))).toEqual([[101, 7592, 2088, 102], [101, 7632, 102]]);

    const hit = cache.lookup('hashA/128', ['hi', 'unseen', 'hello world']);
    expect(hit.missing).toEqual([1]);
    expect(Array.from(hit.found[0]!)).toEqual([101, 7632, 102]);
    expect(Array.from(hit.found[2]!)).toEqual([101, 7592, 2088, 102]);
    // Another tokenizer or max_length encodes differently: nothing is shared across scopes.
    expect(cache.lookup('hashB/128', ['hi']).missing).toEqual([0]);
    expect(cache.lookup('hashA/64', ['hi']).missing).toEqual([0]);
  });

  it('remembers which rows the tokenizer cut, though a cut row is as long as one that fits exactly', () => {
    const cache = new TokenIdCache(1 << 20);
    cache.store('s/4', ['cut', 'exact', 'short'], answer([[101, 5, 6, 102], [101, 7, 8, 102], [101, 102]]), [0]);
    const found = cache.lookup('s/4', ['short', 'exact', 'unseen', 'cut']);
    expect(found.missing).toEqual([2]);
    expect(found.truncated).toEqual([3]);
  });

  it('keeps its own copy of each row, not a view into the gRPC message', () => {
    const cache = new TokenIdCache(1 << 20);
    const reply = answer([[101, 5, 102]]);
    cache.store('s', ['a'], reply);
    reply.values.fill(0);
    expect(Array.from(cache.lookup('s', ['a']).found[0]!)).toEqual([101, 5, 102]);
  });

  it('stays within its byte budget, dropping the least recently used', () => {
    const cache = new TokenIdCache(64 * 1024);
    for (let i = 0; i < 1000; i++) cache.store('s', [`text number ${i}`], answer([[101, i, 102]]));
    expect(cache.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(cache.bytes).toBeGreaterThan(60 * 1024);
    expect(cache.lookup('s', ['text number 999']).missing).toEqual([]);
    expect(cache.lookup('s', ['text number 0']).missing).toEqual([0]);
  });

  it('does not keep an entry larger than 1/64 of the budget, so one long text cannot empty it', () => {
    const cache = new TokenIdCache(64 * 1024);
    cache.store('s', ['short'], answer([[1]]));
    cache.store('s', ['x'.repeat(2000)], answer([Array.from({ length: 10 }, (_, i) => i)]));
    expect(cache.lookup('s', ['short', 'x'.repeat(2000)]).missing).toEqual([1]);
  });
});

describe('raggedOf', () => {
  it('joins rows in order, and lends a single row without a copy', () => {
    const a = Int32Array.from([101, 1, 102]);
    const b = Int32Array.from([101, 102]);
    const both = raggedOf([a, b]);
    expect(both.rowLengths).toEqual([3, 2]);
    expect(idsOf(both)).toEqual([101, 1, 102, 101, 102]);
    const one = raggedOf([a]);
    expect(one.rowLengths).toEqual([3]);
    expect(one.values.buffer).toBe(a.buffer);
  });
});
