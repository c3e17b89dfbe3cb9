import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Database, type DatabaseOptions } from '../database/database';
import { PgliteServer } from '../database/pglite-server';

/**
 * A throw-away database for one test file. With DATABASE_URL it creates
 * servable_test_<random> on that server (other suites share the server's database),
 * otherwise an in-memory PGlite server. `open()` gives another Database on the same data,
 * as a second gateway replica would have.
 */
export class TestDatabase {
  private readonly opened: Database[] = [];

  private constructor(
    readonly url: string | undefined,
    private readonly pglite: PgliteServer | undefined,
    private readonly adminUrl: string | undefined,
    private readonly name: string | undefined,
  ) {}

  static async create(env: NodeJS.ProcessEnv = process.env): Promise<TestDatabase> {
    const adminUrl = env['DATABASE_URL']?.trim();
    if (!adminUrl) return new TestDatabase(undefined, await PgliteServer.start(), undefined, undefined);
    const name = `servable_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return new TestDatabase(url.toString(), undefined, adminUrl, name);
  }

  get kind(): 'postgres' | 'pglite' {
    return this.url ? 'postgres' : 'pglite';
  }

  /** Options for Database.open / ControlPlane.open that reach this database. */
  options(): DatabaseOptions {
    return { url: this.url, pglite: this.pglite, poolSize: 4 };
  }

  async open(options: Omit<DatabaseOptions, 'url' | 'pglite' | 'dataDir'> = {}): Promise<Database> {
    const db = await Database.open({ ...options, url: this.url, pglite: this.pglite, poolSize: 4 });
    this.opened.push(db);
    return db;
  }

  async drop(): Promise<void> {
    for (const db of this.opened) await db.close().catch(() => undefined);
    if (this.pglite) await this.pglite.close();
    if (this.adminUrl && this.name) {
      const admin = new pg.Client({ connectionString: this.adminUrl });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    }
  }
}
