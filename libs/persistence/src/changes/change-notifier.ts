import type { EntityManager } from 'typeorm';
import type { Database, Unlisten } from '../database/database';

/** The NOTIFY channel of config changes (rollouts, labels, states, keys). */
export const CONFIG_CHANNEL = 'servable_config';

export interface ConfigChange {
  revision: number;
  /** "rollout", "label", "state", "version", "api_key", "import", or "poll" when polling found it. */
  kind: string;
  model?: string;
}

/**
 * Marks a config change inside the mutation's transaction: bumps the revision row and
 * queues a NOTIFY, which Postgres delivers only if the transaction commits.
 */
export async function announceChange(manager: EntityManager, change: Omit<ConfigChange, 'revision'>): Promise<number> {
  const result: unknown = await manager.query(
    `UPDATE config_state SET revision = revision + 1, updated_at = now() WHERE id = 1 RETURNING revision`,
  );
  // UPDATE answers [rows, rowCount] through TypeORM's query().
  const rows = (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as Array<{ revision: number }>;
  const revision = rows[0].revision;
  await manager.query(`SELECT pg_notify($1, $2)`, [CONFIG_CHANNEL, JSON.stringify({ ...change, revision })]);
  return revision;
}

export interface ChangeNotifierOptions {
  /**
   * Polling period, the fallback when LISTEN is down. 500 ms keeps "in effect within 1 s"
   * true without LISTEN, for one indexed single-row read per replica per period.
   */
  pollIntervalMs?: number;
  /** Back-off before re-subscribing after the LISTEN connection broke. */
  relistenDelayMs?: number;
  onError?: (err: Error) => void;
}

/**
 * Tells this process when another (or this) replica changed the config. LISTEN/NOTIFY
 * makes it immediate; a poll of the revision row catches anything LISTEN missed (a
 * dropped connection, a NOTIFY during a reconnect). Each revision is reported once.
 */
export class ChangeNotifier {
  private lastRevision = 0;
  private unlisten?: Unlisten;
  private timer?: NodeJS.Timeout;
  private relistenTimer?: NodeJS.Timeout;
  private stopped = true;
  private listener?: (change: ConfigChange) => void | Promise<void>;
  private running = false;
  private pending?: ConfigChange;

  constructor(
    private readonly db: Database,
    private readonly options: ChangeNotifierOptions = {},
  ) {}

  get revision(): number {
    return this.lastRevision;
  }

  /**
   * Starts listening; returns the current revision (load your state after this call).
   * `onChange` runs one call at a time; changes that arrive meanwhile are coalesced into
   * one more call, so a slow reload never finishes after a newer one.
   */
  async start(onChange: (change: ConfigChange) => void | Promise<void>): Promise<number> {
    this.listener = onChange;
    this.stopped = false;
    this.lastRevision = await this.readRevision();
    await this.listen();
    const period = this.options.pollIntervalMs ?? 500;
    this.timer = setInterval(() => void this.poll(), period);
    this.timer.unref();
    return this.lastRevision;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.relistenTimer);
    await this.unlisten?.().catch(() => undefined);
    this.unlisten = undefined;
  }

  private async listen(): Promise<void> {
    try {
      this.unlisten = await this.db.listen(
        CONFIG_CHANNEL,
        (payload) => this.onPayload(payload),
        (err) => this.onLost(err),
      );
    } catch (err) {
      this.onLost(err as Error);
    }
  }

  private onLost(err: Error): void {
    this.options.onError?.(err);
    this.unlisten = undefined;
    if (this.stopped || this.relistenTimer) return;
    this.relistenTimer = setTimeout(() => {
      this.relistenTimer = undefined;
      if (!this.stopped) void this.listen();
    }, this.options.relistenDelayMs ?? 1000);
    this.relistenTimer.unref();
  }

  private onPayload(payload: string): void {
    try {
      const change = JSON.parse(payload) as ConfigChange;
      this.deliver(change);
    } catch {
      // A NOTIFY from someone else on our channel; the poll will pick up any real change.
    }
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    try {
      const revision = await this.readRevision();
      if (revision > this.lastRevision) this.deliver({ revision, kind: 'poll' });
    } catch (err) {
      this.options.onError?.(err as Error);
    }
  }

  private deliver(change: ConfigChange): void {
    if (this.stopped || change.revision <= this.lastRevision) return;
    this.lastRevision = change.revision;
    this.pending = change;
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.pending && !this.stopped) {
      const change = this.pending;
      this.pending = undefined;
      try {
        await this.listener?.(change);
      } catch (err) {
        this.options.onError?.(err as Error);
      }
    }
    this.running = false;
  }

  private async readRevision(): Promise<number> {
    const rows: Array<{ revision: number }> = await this.db.dataSource.query(`SELECT revision FROM config_state WHERE id = 1`);
    return rows[0]?.revision ?? 0;
  }
}
