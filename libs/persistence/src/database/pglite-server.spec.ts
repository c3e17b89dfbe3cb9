import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgliteServer } from './pglite-server';

describe('embedded PGlite server', () => {
  let server: PgliteServer;
  let pool: pg.Pool;

  beforeAll(async () => {
    server = await PgliteServer.start();
    pool = new pg.Pool({ ...server.connection, max: 8 });
    await pool.query(`CREATE TABLE item (id int PRIMARY KEY)`);
  });
  afterAll(async () => {
    await pool?.end();
    await server?.close();
  });

  it('answers each pooled connection its own parameterised queries, with a transaction open on another', async () => {
    const tx = new pg.Client(server.connection);
    await tx.connect();
    const inTransaction = (async () => {
      await tx.query('BEGIN');
      await tx.query(`INSERT INTO item (id) VALUES ($1)`, [1]);
      await new Promise((r) => setTimeout(r, 100));
      const seen = (await tx.query(`SELECT count(*)::int AS n FROM item`)).rows[0].n;
      await tx.query('ROLLBACK');
      return seen;
    })();
    // Each statement is Parse/Bind/Execute/Sync on the unnamed statement. A 1 MB parameter reaches
    // the server in several reads, and pglite-socket's own queue let the small statements of other
    // connections in between ("bind message supplies 2 parameters, but prepared statement "" requires 1").
    const big = 'x'.repeat(1 << 20);
    const query = (i: number) => (i % 10 === 0 ? pool.query(`SELECT $1::int AS n, length($2::text) AS len`, [i, big]) : pool.query(`SELECT $1::int AS n`, [i]));
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => query(i)));
    expect(answers.map((r) => r.rows[0])).toEqual(Array.from({ length: 100 }, (_, i) => (i % 10 === 0 ? { n: i, len: 1 << 20 } : { n: i })));
    expect(await inTransaction).toBe(1);
    expect((await pool.query(`SELECT count(*)::int AS n FROM item`)).rows[0].n).toBe(0);
    await tx.end();
  });

  it('rolls back the transaction of a connection that went away, and goes on serving the others', async () => {
    const gone = new pg.Client(server.connection);
    gone.on('error', () => undefined);
    await gone.connect();
    await gone.query('BEGIN');
    await gone.query(`INSERT INTO item (id) VALUES (2)`);
    const waiting = pool.query(`SELECT count(*)::int AS n FROM item`);
    (gone as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    expect((await waiting).rows[0].n).toBe(0);
  });

  it('delivers a NOTIFY to the connection that ran LISTEN', async () => {
    const listener = new pg.Client(server.connection);
    await listener.connect();
    await listener.query('LISTEN servable_test');
    const got = new Promise<string | undefined>((resolve) => listener.on('notification', (n) => resolve(n.payload)));
    await pool.query(`SELECT pg_notify('servable_test', 'hello')`);
    expect(await got).toBe('hello');
    await listener.end();
  });
});
