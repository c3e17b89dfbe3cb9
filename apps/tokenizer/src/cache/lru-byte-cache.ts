/**
 * An LRU bounded by bytes rather than entries: ids of a long e-mail weigh a
 * hundred times those of a short query, so an entry count says nothing about
 * memory. Map iteration order is insertion order, which makes it the LRU list.
 */
export class LruByteCache {
  private readonly map = new Map<string, Int32Array>();
  private used = 0;
  // Map entry, key string and typed-array object headers, roughly.
  private static readonly OVERHEAD = 96;

  constructor(private readonly maxBytes: number) {}

  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): Int32Array | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  set(key: string, value: Int32Array): void {
    const cost = LruByteCache.cost(key, value);
    if (cost > this.maxBytes) return;
    const old = this.map.get(key);
    if (old !== undefined) {
      this.used -= LruByteCache.cost(key, old);
      this.map.delete(key);
    }
    this.map.set(key, value);
    this.used += cost;
    for (const [k, v] of this.map) {
      if (this.used <= this.maxBytes) break;
      this.map.delete(k);
      this.used -= LruByteCache.cost(k, v);
    }
  }

  private static cost(key: string, value: Int32Array): number {
    return key.length * 2 + value.byteLength + LruByteCache.OVERHEAD;
  }
}
