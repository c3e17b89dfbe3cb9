import { join, resolve } from 'node:path';
import pg from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ENTITIES } from '../entities';
import { MIGRATIONS } from '../migrations';
import { PgliteServer } from './pglite-server';

export interface DatabaseOptions {
  /** postgres://… selects PostgreSQL; unset selects the embedded PGlite. */
  url?: string;
  /** PGlite data directory; unset keeps PGlite in memory (tests). */
  dataDir?: string;
  /** An embedded PGlite server to share, so two Database objects see one database (tests of two replicas). */
  pglite?: PgliteServer;
  /** Connections in the pool. On PGlite they take turns on its one session (see pglite-child.mjs). */
  poolSize?: number;
  /** Run pending migrations on open (start-up). */
  migrate?: boolean;
  logging?: boolean;
}

/** Where the data lives, from the environment: DATABASE_URL, else PGlite in $SERVABLE_DATA_DIR/pgdata. */
export function databaseOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): DatabaseOptions {
  const url = env['DATABASE_URL']?.trim();
  if (url) return { url };
  return { dataDir: join(resolve(env['SERVABLE_DATA_DIR'] ?? '.servable'), 'pgdata') };
}

export type Unlisten = () => Promise<void>;

const pgliteLocks = new WeakMap<PgliteServer, Map<string, Promise<unknown>>>();

function inProcessLock<T>(db: PgliteServer, name: string, fn: () => Promise<T>): Promise<T> {
  let locks = pgliteLocks.get(db);
  if (!locks) pgliteLocks.set(db, (locks = new Map()));
  const previous = locks.get(name) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  locks.set(name, run.catch(() => undefined));
  return run;
}

/**
 * One database: a TypeORM DataSource (synchronize off, the committed migrations run at
 * open) plus LISTEN for the change notifier. The same entities, migrations and driver
 * (TypeORM's postgres over node-postgres) serve PostgreSQL and the embedded PGlite server.
 */
export class Database {
  private constructor(
    readonly dataSource: DataSource,
    readonly kind: 'postgres' | 'pglite',
    private readonly connection: pg.ClientConfig,
    private readonly pglite: PgliteServer | undefined,
    private readonly ownsPglite: boolean,
  ) {}

  static async open(options: DatabaseOptions = {}): Promise<Database> {
    const base = {
      type: 'postgres',
      entities: ENTITIES,
      migrations: MIGRATIONS,
      synchronize: false,
      migrationsRun: false,
      logging: options.logging ?? false,
    } as const;
    let db: Database;
    if (options.url) {
      const ds = new DataSource({ ...base, url: options.url, poolSize: options.poolSize ?? 10 } as DataSourceOptions);
      db = new Database(ds, 'postgres', { connectionString: options.url }, undefined, false);
    } else {
      const pglite = options.pglite ?? (await PgliteServer.start({ dataDir: options.dataDir }));
      const { host, port, user, database } = pglite.connection;
      // A few connections: they queue for PGlite's one session at the server, not in the pool.
      const ds = new DataSource({ ...base, host, port, username: user, database, poolSize: options.poolSize ?? 4 } as DataSourceOptions);
      db = new Database(ds, 'pglite', pglite.connection, pglite, !options.pglite);
    }
    try {
      await db.dataSource.initialize();
      if (options.migrate ?? true) {
        // Replicas starting together would race to create the same tables.
        await db.withExclusiveLock('migrations', () => db.dataSource.runMigrations({ transaction: 'each' }));
      }
    } catch (err) {
      await db.close().catch(() => undefined);
      throw err;
    }
    return db;
  }

  /**
   * Runs `fn` while no other process holds the same named lock (a session advisory lock
   * on Postgres). For start-up work every replica does: migrations, import, the first
   * admin key. PGlite serves one process, so there an in-process lock is enough (and the
   * only one that works: its connections share one session, where advisory locks never block).
   */
  async withExclusiveLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (this.pglite) return inProcessLock(this.pglite, name, fn);
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    // Lock key: a stable 32-bit number from the name, in the space of this application.
    const key = [...`servable:${name}`].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) | 0, 7);
    try {
      await runner.query(`SELECT pg_advisory_lock($1)`, [key]);
      return await fn();
    } finally {
      await runner.query(`SELECT pg_advisory_unlock($1)`, [key]).catch(() => undefined);
      await runner.release();
    }
  }

  /**
   * LISTEN on a channel. This holds a dedicated connection outside the
   * pool (a pooled one would drop the subscription when returned); `onLost` fires when
   * it breaks, and the caller's polling covers the gap.
   */
  async listen(channel: string, onPayload: (payload: string) => void, onLost?: (err: Error) => void): Promise<Unlisten> {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`bad channel name ${channel}`);
    const client = new pg.Client(this.connection);
    let closing = false;
    client.on('notification', (msg) => {
      if (msg.channel === channel) onPayload(msg.payload ?? '');
    });
    client.on('error', (err) => {
      if (!closing) onLost?.(err);
    });
    client.on('end', () => {
      if (!closing) onLost?.(new Error('LISTEN connection ended'));
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${channel}`);
    } catch (err) {
      closing = true;
      await client.end().catch(() => undefined);
      throw err;
    }
    return async () => {
      closing = true;
      await client.end().catch(() => undefined);
    };
  }

  /** Reverts every migration: the schema goes back to empty (tests, and `down` by hand). */
  async revertAll(): Promise<void> {
    while ((await this.appliedCount()) > 0) {
      await this.dataSource.undoLastMigration({ transaction: 'each' });
    }
  }

  private async appliedCount(): Promise<number> {
    const rows: Array<{ n: number }> = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'migrations' AND table_schema = current_schema()`,
    );
    if (rows[0].n === 0) return 0;
    const applied: Array<{ n: number }> = await this.dataSource.query(`SELECT count(*)::int AS n FROM migrations`);
    return applied[0].n;
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    if (this.pglite && this.ownsPglite) await this.pglite.close();
  }
}
