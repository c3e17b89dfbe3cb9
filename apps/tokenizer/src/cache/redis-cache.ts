import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { bytesToInt32, int32ToBytes } from '@servable/contracts';

export interface RedisCacheEvents {
  onFailure(operation: 'mget' | 'set'): void;
}

/**
 * The shared second cache level. It is an optimisation, never a dependency:
 * commands fail fast while Redis is away (no offline queue, bounded command
 * time), the caller treats a failure as a miss, and ioredis keeps
 * reconnecting in the background so the level comes back by itself.
 */
export class RedisCache {
  private readonly logger = new Logger(RedisCache.name);
  private readonly client: Redis;
  private healthy = false;
  private warnedDown = false;

  constructor(
    url: string,
    commandTimeoutMs: number,
    private readonly ttlSeconds: number,
    private readonly events: RedisCacheEvents,
  ) {
    this.client = new Redis(url, {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: commandTimeoutMs,
      connectTimeout: 2_000,
      retryStrategy: (attempt) => Math.min(250 * attempt, 2_000),
    });
    this.client.on('ready', () => {
      this.healthy = true;
      if (this.warnedDown) this.logger.log('redis is back; the shared cache level is in use again');
      this.warnedDown = false;
    });
    this.client.on('error', (err: Error) => this.markDown(err));
    this.client.on('end', () => (this.healthy = false));
  }

  get isHealthy(): boolean {
    return this.healthy && this.client.status === 'ready';
  }

  /** One MGET for the whole batch; undefined per key on a miss or while Redis is down. */
  async mget(keys: string[]): Promise<(Int32Array | undefined)[]> {
    if (keys.length === 0 || !this.isHealthy) return keys.map(() => undefined);
    try {
      const values = await this.client.mgetBuffer(...keys);
      return values.map((v) => (v ? bytesToInt32(v) : undefined));
    } catch (err) {
      this.events.onFailure('mget');
      this.markDown(err as Error);
      return keys.map(() => undefined);
    }
  }

  /** Writes in one pipeline, off the request path: the caller does not await it. */
  setMany(entries: [string, Int32Array][]): void {
    if (entries.length === 0 || !this.isHealthy) return;
    const pipeline = this.client.pipeline();
    for (const [key, ids] of entries) pipeline.set(key, int32ToBytes(ids), 'EX', this.ttlSeconds);
    pipeline.exec().catch((err: Error) => {
      this.events.onFailure('set');
      this.markDown(err);
    });
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.client.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }

  private markDown(err: Error): void {
    // Timeouts of single commands do not mean the connection is gone.
    if (this.client.status !== 'ready') this.healthy = false;
    if (!this.warnedDown) {
      this.warnedDown = true;
      this.logger.warn(`redis unavailable (${err.message}); serving from the in-process cache and encoder until it returns`);
    }
  }
}
