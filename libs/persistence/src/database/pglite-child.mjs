// The embedded database's server: PGlite behind a PostgreSQL socket, in a child process of
// its own, so the process that uses it (the gateway) talks to it with the stock `pg` driver
// and keeps PGlite's WASM memory out of its own RSS. Started by PgliteServer (pglite-server.ts)
// with --socket <path> [--data-dir <dir>]; answers { ready: true } or { error } over IPC, and
// stops when its parent disconnects (closes it or dies).
//
// Plain JavaScript: it runs as it is, beside the bundled gateway (a build asset) or from
// libs/persistence in tests.
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler } from '@electric-sql/pglite-socket';

const STARTUP_PROTOCOL = 196608; // 3.0
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);
const [QUERY, SYNC_TYPE, TERMINATE, NOTIFICATION] = [0x51, 0x53, 0x58, 0x41];

const isStartup = (m) => m.length >= 8 && new DataView(m.buffer, m.byteOffset, m.byteLength).getInt32(4) === STARTUP_PROTOCOL;

/**
 * Hands PGlite's one session to one connection at a time.
 *
 * pglite-socket's own queue runs the protocol messages of all connections in arrival order
 * and keeps a connection's turn only while a transaction is open. That is not enough for a
 * pool: the Parse/Bind/Execute/Sync of two connections interleave on the one session (one
 * binds the other's unnamed statement), and one failed message stalls the queue for good
 * (electric-sql/pglite#1046; the fix, #977, is not released as of 0.2.17). Here a
 * connection keeps the session from its first message until PGlite is idle again: after a
 * Sync or a simple Query that leaves no transaction open, so a transaction keeps it until
 * COMMIT or ROLLBACK, as one PostgreSQL session would. PGLiteSocketHandler (framing, SSL
 * and cancel requests, the socket) is the library's; only its queue is replaced.
 *
 * One session also means NOTIFY reaches the connection that committed it, not the one that
 * ran LISTEN: NotificationResponse messages are copied to every other connection (clients
 * that did not LISTEN ignore them, as node-postgres does).
 */
export class SessionQueue {
  #db;
  #owner;
  /** The connection's last exchange is not finished (a Parse without its Sync yet). */
  #midExchange = false;
  #waiting = [];
  #inFlight = new Map();
  #writers = new Map();

  constructor(db) {
    this.#db = db;
  }

  async enqueue(handlerId, message, onData) {
    this.#writers.set(handlerId, onData);
    this.#inFlight.set(handlerId, (this.#inFlight.get(handlerId) ?? 0) + 1);
    try {
      if (this.#owner !== handlerId) await this.#acquire(handlerId);
      // The library forwards Terminate; on a shared session it must not reach PGlite. The
      // socket closes next, and detach cleans up after it.
      if (message[0] === TERMINATE && !isStartup(message)) return 0;
      let bytes = 0;
      const scan = notificationScanner((n) => this.#broadcast(handlerId, n));
      await this.#db.runExclusive(() =>
        this.#db.execProtocolRawStream(message, {
          onRawData: (data) => {
            bytes += data.length;
            onData(data);
            scan(data);
          },
        }),
      );
      this.#midExchange = !(isStartup(message) || message[0] === SYNC_TYPE || message[0] === QUERY);
      return bytes;
    } finally {
      const left = this.#inFlight.get(handlerId) - 1;
      if (left === 0) this.#inFlight.delete(handlerId);
      else this.#inFlight.set(handlerId, left);
      if (this.#owner === handlerId && left === 0 && !this.#midExchange && !this.#db.isInTransaction()) this.#release();
    }
  }

  /** The connection is gone: drop what it still had queued. */
  clearQueueForHandler(handlerId) {
    this.#writers.delete(handlerId);
    this.#waiting = this.#waiting.filter((w) => {
      if (w.handlerId === handlerId) w.reject(new Error('connection closed'));
      return w.handlerId !== handlerId;
    });
  }

  /** The connection is gone while it held the session: end its exchange and transaction, then pass the session on. */
  async clearTransactionIfNeeded(handlerId) {
    if (this.#owner !== handlerId) return;
    try {
      if (this.#midExchange) await this.#db.runExclusive(() => this.#db.execProtocolRawStream(SYNC, { onRawData: () => undefined }));
      if (this.#db.isInTransaction()) await this.#db.exec('ROLLBACK');
    } finally {
      this.#midExchange = false;
      this.#release();
    }
  }

  #acquire(handlerId) {
    if (this.#owner === undefined) {
      this.#owner = handlerId;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.#waiting.push({ handlerId, resolve, reject }));
  }

  #release() {
    this.#owner = this.#waiting[0]?.handlerId;
    // Every message that connection has waiting goes on, in the order it sent them.
    const granted = this.#waiting.filter((w) => w.handlerId === this.#owner);
    this.#waiting = this.#waiting.filter((w) => w.handlerId !== this.#owner);
    for (const w of granted) w.resolve();
  }

  #broadcast(from, notification) {
    for (const [handlerId, write] of this.#writers) if (handlerId !== from) write(notification);
  }
}

/** Calls `onNotification` with a copy of each NotificationResponse in a stream of backend messages. */
function notificationScanner(onNotification) {
  let rest = Buffer.alloc(0);
  let skip = 0;
  return (chunk) => {
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (skip >= buf.length) {
      skip -= buf.length;
      return;
    }
    buf = buf.subarray(skip);
    skip = 0;
    if (rest.length > 0) buf = Buffer.concat([rest, buf]);
    while (buf.length >= 5) {
      const end = 1 + buf.readInt32BE(1);
      if (buf.length < end) {
        if (buf[0] !== NOTIFICATION) {
          skip = end - buf.length;
          buf = buf.subarray(buf.length);
        }
        break;
      }
      if (buf[0] === NOTIFICATION) onNotification(Buffer.from(buf.subarray(0, end)));
      buf = buf.subarray(end);
    }
    // PGlite may reuse the chunk's memory: keep a copy of a message cut in two.
    rest = Buffer.from(buf);
  };
}

/** Serves `db` on a Unix socket; resolves once it listens. */
export async function servePglite(db, socketPath) {
  const queue = new SessionQueue(db);
  const handlers = new Set();
  const server = createServer((socket) => {
    const handler = new PGLiteSocketHandler({ queryQueue: queue, closeOnDetach: true });
    handlers.add(handler);
    const forget = () => handlers.delete(handler);
    handler.addEventListener('close', forget);
    handler.addEventListener('error', forget);
    handler.attach(socket).catch(() => socket.destroy());
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  return {
    async close() {
      await Promise.all([...handlers].map((h) => h.detach(true)));
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function main() {
  const { values } = parseArgs({ options: { socket: { type: 'string' }, 'data-dir': { type: 'string' } } });
  // Ctrl-C reaches the whole process group: the parent still needs the database while it
  // shuts down, and disconnects once it is done.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
  let db;
  let server;
  let closing;
  const close = () =>
    (closing ??= (async () => {
      await server?.close().catch(() => undefined);
      if (db && !db.closed) await db.close();
      // The directory is this server's alone (PgliteServer made it); a parent that died cannot remove it.
      rmSync(dirname(values.socket), { recursive: true, force: true });
      process.exit(0);
    })());
  process.on('disconnect', close);
  try {
    db = await PGlite.create({
      dataDir: values['data-dir'],
      // The control plane's tables are a few MB; Postgres' default 128 MB of shared buffers would
      // live in PGlite's WASM memory for good (about 120 MB of RSS, measured).
      startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'],
    });
    server = await servePglite(db, values.socket);
    process.send?.({ ready: true });
  } catch (err) {
    process.send?.({ error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  }
}

if (process.send && process.argv.includes('--socket')) void main();
