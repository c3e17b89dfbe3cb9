import { EventEmitter } from 'node:events';
import { types, type PGlite, type Results } from '@electric-sql/pglite';

/**
 * A node-postgres shaped Pool over one in-process PGlite, handed to TypeORM as its
 * `driver`. PGlite has a single session, so connections are leases taken one at a
 * time: two TypeORM transactions must not interleave their statements on it. The lock
 * belongs to the PGlite instance, so several pools (two "replicas" in a test) share it.
 */
const leases = new WeakMap<PGlite, Lease>();

class Lease {
  private tail: Promise<void> = Promise.resolve();

  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const ready = this.tail.then(() => release);
    this.tail = this.tail.then(() => next);
    return ready;
  }
}

function leaseFor(db: PGlite): Lease {
  let lease = leases.get(db);
  if (!lease) {
    lease = new Lease();
    leases.set(db, lease);
  }
  return lease;
}

interface PgResult {
  rows: unknown[];
  rowCount: number;
  command: string;
  fields: Results['fields'];
}

type Callback = (err: Error | null, result?: PgResult) => void;

class PGliteClient extends EventEmitter {
  constructor(private readonly db: PGlite) {
    super();
  }

  query(sql: string, params?: unknown[] | Callback, callback?: Callback): Promise<PgResult> {
    const cb = typeof params === 'function' ? params : callback;
    const values = typeof params === 'function' ? undefined : params;
    const run = async (): Promise<PgResult> => {
      // Without parameters a string may hold several statements (migrations); TypeORM wants the last result.
      const result =
        values && values.length > 0
          ? await this.db.query(sql, values)
          : ((await this.db.exec(sql)).at(-1) ?? { rows: [], fields: [], affectedRows: 0 });
      const command = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? '';
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length, command, fields: result.fields };
    };
    const promise = run();
    if (cb) promise.then((r) => cb(null, r), (e: Error) => cb(e));
    return promise;
  }
}

export function pglitePoolDriver(db: PGlite): { Pool: new () => unknown } {
  class PGlitePool extends EventEmitter {
    async connect(callback?: (err: Error | null, client?: PGliteClient, release?: () => void) => void) {
      const release = await leaseFor(db).acquire();
      const client = new PGliteClient(db);
      let released = false;
      const done = () => {
        if (!released) {
          released = true;
          release();
        }
      };
      if (callback) {
        callback(null, client, done);
        return undefined;
      }
      return Object.assign(client, { release: done });
    }

    async query(sql: string, params?: unknown[]) {
      const release = await leaseFor(db).acquire();
      try {
        return await new PGliteClient(db).query(sql, params);
      } finally {
        release();
      }
    }

    end(callback?: (err: Error | null) => void) {
      // The PGlite instance outlives its pools; Database.close() closes it.
      callback?.(null);
      return Promise.resolve();
    }
  }
  return { Pool: PGlitePool };
}

/** node-postgres returns int8 and numeric as strings; PGlite is told to do the same, so code sees one shape. */
export const pgCompatibleParsers = {
  [types.INT8]: (value: string) => value,
  [types.NUMERIC]: (value: string) => value,
};
