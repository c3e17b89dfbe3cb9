import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { bytesToInt32, int32ToBytes } from '@servable/contracts';

export interface RedisCacheEvents {
  onFailure(operation: 'mget' | 'set'): void;
}

/**
 * After a command fails on a connection that is still up (a hung or overloaded Redis: the
 * command timed out), Redis is left alone for this long; then one command tries it again.
 */
const PAUSE_AFTER_FAILURE_MS = 5_000;

/**
 * The shared second cache level. It is an optimisation, never a dependency:
 * commands fail fast while Redis is away (no offline queue, bounded command
 * time), the caller treats a failure as a miss, and ioredis keeps
 * reconnecting in the background so the level comes back by itself. A Redis
 * that keeps its connection but does not answer is skipped for a while after a
 * timeout: asked on every request, it cost each one the whole command timeout
 * (a hung Redis took the median request from 10 to 170 ms for as long as it hung).
 * A lookup or write skipped while Redis is down or paused counts as a failure,
 * so the failure counter keeps rising through an outage.
 */
export class RedisCache {
  private readonly logger = new Logger(RedisCache.name);
  private readonly client: Redis;
  private healthy = false;
  private warnedDown = false;
  private pausedUntil = 0;

  constructor(
    url: string,
    commandTimeoutMs: number,
    private readonly ttlSeconds: number,
    private readonly events: RedisCacheEvents,
    private readonly pauseAfterFailureMs = PAUSE_AFTER_FAILURE_MS,
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
    return this.healthy && this.client.status === 'ready' && Date.now() >= this.pausedUntil;
  }

  /** One MGET for the whole batch; undefined per key on a miss or while Redis is down. */
  async mget(keys: string[]): Promise<(Int32Array | undefined)[]> {
    if (keys.length === 0) return [];
    if (!this.isHealthy) {
      this.events.onFailure('mget');
      return keys.map(() => undefined);
    }
    try {
      const values = await this.client.mgetBuffer(...keys);
      this.answered();
      return values.map((v) => (v ? bytesToInt32(v) : undefined));
    } catch (err) {
      this.events.onFailure('mget');
      this.markDown(err as Error);
      return keys.map(() => undefined);
    }
  }

  /** Writes in one pipeline, off the request path: the caller does not await it. */
  setMany(entries: [string, Int32Array][]): void {
    if (entries.length === 0) return;
    if (!this.isHealthy) {
      this.events.onFailure('set');
      return;
    }
    const pipeline = this.client.pipeline();
    for (const [key, ids] of entries) pipeline.set(key, int32ToBytes(ids), 'EX', this.ttlSeconds);
    pipeline.exec().then(
      () => this.answered(),
      (err: Error) => {
        this.events.onFailure('set');
        this.markDown(err);
      },
    );
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
    // A connection that is down is waited for (ioredis reconnects); one that is up but did not
    // answer in time is paused, then tried again.
    if (this.client.status !== 'ready') this.healthy = false;
    else this.pausedUntil = Date.now() + this.pauseAfterFailureMs;
    if (!this.warnedDown) {
      this.warnedDown = true;
      this.logger.warn(`redis unavailable (${err.message}); serving from the in-process cache and encoder until it returns`);
    }
  }

  /** A command answered: after a failure that kept the connection, this is Redis coming back ('ready' does not fire again). */
  private answered(): void {
    if (!this.warnedDown) return;
    this.warnedDown = false;
    this.logger.log('redis answers again; the shared cache level is in use again');
  }
}
