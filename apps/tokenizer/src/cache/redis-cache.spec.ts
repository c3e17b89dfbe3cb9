import { describe, expect, it } from 'vitest';
import { startRedisOrSkip } from '../testing/tokenizer-fixtures';
import { RedisCache } from './redis-cache';

const COMMAND_TIMEOUT_MS = 100;

describe('RedisCache', () => {
  it('skips a Redis that stopped answering after one timeout, counts every skipped lookup, and uses it again once it answers', async () => {
    const redis = await startRedisOrSkip();
    if (!redis) return;
    const failures: string[] = [];
    const cache = new RedisCache(redis.url, COMMAND_TIMEOUT_MS, 60, { onFailure: (op) => failures.push(op) }, 1_000);
    try {
      await new Promise((r) => setTimeout(r, 200));
      cache.setMany([['k', Int32Array.of(2, 7, 3)]]);
      await new Promise((r) => setTimeout(r, 100));
      expect(await cache.mget(['k'])).toEqual([Int32Array.of(2, 7, 3)]);

      // A hung Redis: the connection stays up, no command is answered.
      redis.pause(1_500);
      const timed = async () => {
        const t0 = performance.now();
        const value = await cache.mget(['k']);
        return { value, ms: performance.now() - t0 };
      };
      const first = await timed();
      expect(first.value).toEqual([undefined]);
      expect(first.ms).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 5);
      // Then it is not asked: a miss at once, counted, rather than a timeout per request.
      for (let i = 0; i < 10; i++) {
        const next = await timed();
        expect(next.value).toEqual([undefined]);
        expect(next.ms).toBeLessThan(COMMAND_TIMEOUT_MS / 2);
      }
      expect(failures.filter((op) => op === 'mget')).toHaveLength(11);
      // Redis answers again (the pause of 1.5 s is over), and after its own pause the cache asks it again.
      await new Promise((r) => setTimeout(r, 1_700));
      expect(await cache.mget(['k'])).toEqual([Int32Array.of(2, 7, 3)]);
      expect(failures).toHaveLength(11);
    } finally {
      await cache.close();
      await redis.stop();
    }
  }, 20_000);
});
