import { LRUCache } from 'lru-cache';
import type { servableCommonV1 } from '@servable/contracts/grpc';

/** Key (UTF-16 at worst), ids, and roughly the LRU's entry and the typed array's header. */
const entryBytes = (ids: Int32Array, key: string) => key.length * 2 + ids.byteLength + 96;

/** Hits and misses of one lookup, for the caller's metrics. */
export interface NearLookup {
  /** Ids per text, undefined where the cache has none. */
  found: (Int32Array | undefined)[];
  /** Indexes of the found texts that were cut to max_length. */
  truncated: number[];
  /** Indexes of the texts to encode. */
  missing: number[];
}

/**
 * The gateway's near cache of token ids: texts it has encoded lately, so a hot text skips the
 * tokenizer hop (a gRPC round trip, about 1 ms at concurrency 1 here) as well as its CPU.
 *
 * Entries never go stale. The key holds everything the ids depend on: the tokenizer's content
 * hash, max_length and the text; the gateway always asks for right truncation and special
 * tokens, so those are fixed. The tokenizer's own cache (LRU, then Redis) stays the shared level
 * behind this one; here each gateway replica keeps only what it served lately, bounded by bytes.
 */
export class TokenIdCache {
  private readonly lru: LRUCache<string, Int32Array>;
  /**
   * The rows the tokenizer cut to max_length. A cut row is as long as one that fits exactly, so
   * the length cannot tell; a row leaves this set with its entry (nothing else holds it).
   */
  private readonly cut = new WeakSet<Int32Array>();

  /** `maxBytes` > 0; one entry may take at most 1/64 of it, so a few long texts cannot empty it. */
  constructor(maxBytes: number) {
    this.lru = new LRUCache({ maxSize: maxBytes, maxEntrySize: Math.max(1, Math.floor(maxBytes / 64)), sizeCalculation: entryBytes });
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }

  /** `scope` names the encoding (tokenizer hash and max_length). */
  lookup(scope: string, texts: string[]): NearLookup {
    const found: (Int32Array | undefined)[] = new Array(texts.length);
    const missing: number[] = [];
    const truncated: number[] = [];
    for (let i = 0; i < texts.length; i++) {
      const row = this.lru.get(keyOf(scope, texts[i]));
      found[i] = row;
      if (!row) missing.push(i);
      else if (this.cut.has(row)) truncated.push(i);
    }
    return { found, missing, truncated };
  }

  /**
   * Keeps each row of an Encode answer under its text (`truncated`: the indexes of the rows the
   * tokenizer cut) and returns the rows. Each row is copied into an array of its own: the answer's
   * bytes are a view into a gRPC message (not always 4-byte aligned), which an entry must not keep
   * alive.
   */
  store(scope: string, texts: string[], ids: servableCommonV1.RaggedTensor, truncated: readonly number[] = []): Int32Array[] {
    if (ids.rowLengths.length !== texts.length) throw new Error(`tokenizer answered ${ids.rowLengths.length} rows for ${texts.length} texts`);
    const rows: Int32Array[] = new Array(texts.length);
    let offset = ids.values.byteOffset;
    for (let i = 0; i < texts.length; i++) {
      const length = ids.rowLengths[i];
      const row = new Int32Array(length);
      new Uint8Array(row.buffer).set(new Uint8Array(ids.values.buffer, offset, length * Int32Array.BYTES_PER_ELEMENT));
      offset += row.byteLength;
      rows[i] = row;
      this.lru.set(keyOf(scope, texts[i]), row);
    }
    for (const i of truncated) this.cut.add(rows[i]);
    return rows;
  }
}

const keyOf = (scope: string, text: string) => `${scope}\n${text}`;

/** Rows as one ragged tensor, without a copy when there is one row. */
export function raggedOf(rows: Int32Array[]): servableCommonV1.RaggedTensor {
  const rowLengths = rows.map((r) => r.length);
  if (rows.length === 1) {
    const [row] = rows;
    return { dtype: 'DATA_TYPE_INT32', values: Buffer.from(row.buffer, row.byteOffset, row.byteLength), rowLengths };
  }
  const values = new Int32Array(rowLengths.reduce((a, b) => a + b, 0));
  let at = 0;
  for (const row of rows) {
    values.set(row, at);
    at += row.length;
  }
  return { dtype: 'DATA_TYPE_INT32', values: Buffer.from(values.buffer), rowLengths };
}
