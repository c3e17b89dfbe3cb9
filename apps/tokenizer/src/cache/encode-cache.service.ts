import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { hash } from 'node:crypto';
import { TOKENIZER_CONFIG, type TokenizerConfig } from '../config/tokenizer.config';
import { TokenizerMetrics } from '../metrics/tokenizer.metrics';
import { LRUCache } from 'lru-cache';
import { RedisCache } from './redis-cache';

export interface CacheLookup {
  /** Ids per requested key, undefined where both levels missed. */
  found: (Int32Array | undefined)[];
  l1Hits: number;
  l2Hits: number;
}

/** Key string (UTF-16), ids, and roughly the Map entry and typed-array headers. */
function entryBytes(value: Int32Array, key: string): number {
  return key.length * 2 + value.byteLength + 96;
}

/**
 * Two cache levels for encoded texts: an in-process LRU, then Redis when
 * REDIS_URL is set. Entries never change, because the key holds everything
 * the ids depend on: tokenizer hash, max_length, truncation side, special
 * tokens and a digest of the text.
 */
@Injectable()
export class EncodeCache implements OnModuleDestroy {
  private readonly l1: LRUCache<string, Int32Array>;
  private readonly l2?: RedisCache;

  constructor(
    @Inject(TOKENIZER_CONFIG) config: TokenizerConfig,
    private readonly metrics: TokenizerMetrics,
  ) {
    // Bounded by bytes, not entries: ids of a long e-mail weigh a hundred times those of a short query.
    // An entry larger than the whole budget is simply not kept (maxEntrySize defaults to maxSize).
    this.l1 = new LRUCache({ maxSize: config.CACHE_MAX_BYTES, sizeCalculation: entryBytes });
    if (config.REDIS_URL) {
      this.l2 = new RedisCache(config.REDIS_URL, config.REDIS_COMMAND_TIMEOUT_MS, config.CACHE_TTL_SECONDS, {
        onFailure: (op) => metrics.redisFailures.inc({ operation: op }),
      });
    }
  }

  get level2(): 'redis' | 'none' {
    return this.l2 ? 'redis' : 'none';
  }

  static key(prefix: string, text: string): string {
    // A digest keeps Redis keys short whatever the text length; sha256 makes a collision a non-issue.
    return `${prefix}:${hash('sha256', text, 'base64url')}`;
  }

  async lookup(keys: string[]): Promise<CacheLookup> {
    const found = keys.map((k) => this.l1.get(k));
    const l1Hits = found.filter(Boolean).length;
    let l2Hits = 0;
    const missing = found.flatMap((v, i) => (v ? [] : [i]));
    if (this.l2 && missing.length > 0) {
      const values = await this.l2.mget(missing.map((i) => keys[i]));
      values.forEach((v, j) => {
        if (!v) return;
        const i = missing[j];
        found[i] = v;
        this.l1.set(keys[i], v);
        l2Hits++;
      });
    }
    this.metrics.cacheLookups.inc({ level: 'l1', result: 'hit' }, l1Hits);
    this.metrics.cacheLookups.inc({ level: 'l1', result: 'miss' }, keys.length - l1Hits);
    if (this.l2) {
      this.metrics.cacheLookups.inc({ level: 'l2', result: 'hit' }, l2Hits);
      this.metrics.cacheLookups.inc({ level: 'l2', result: 'miss' }, missing.length - l2Hits);
    }
    this.metrics.cacheBytes.set(this.l1.calculatedSize);
    return { found, l1Hits, l2Hits };
  }

  store(entries: [string, Int32Array][]): void {
    for (const [k, v] of entries) this.l1.set(k, v);
    this.l2?.setMany(entries);
    this.metrics.cacheBytes.set(this.l1.calculatedSize);
  }

  async ping(): Promise<boolean | undefined> {
    return this.l2?.ping();
  }

  async onModuleDestroy(): Promise<void> {
    await this.l2?.close();
  }
}
