import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initPgliteDir } from './pglite-init';

/** How long PGlite may take to open (a cold WASM compile on a busy 2-core machine takes seconds). */
const START_TIMEOUT_MS = 120_000;
/** How long closing may take before the server is killed: PGlite writes its pages back on close. */
const STOP_TIMEOUT_MS = 15_000;

/**
 * The server's V8 flags, for its memory, which counts as the gateway's (about 230 MB of RSS at
 * idle without them, beside the gateway's own 110 MB). Measured on an idle gateway a minute after
 * start, the PGlite server's RSS in MB:
 * - none: 229, 237;
 * - --wasm-lazy-compilation: 184, 186, 218. Postgres compiled to WASM is a large module, and V8
 *   compiled every function of it at start; lazily it compiles only what runs;
 * - with --max-semi-space-size=2 too: 177, 174, 190, 202. The server only relays protocol
 *   messages between a socket and PGlite, so a 2 MB young generation is plenty;
 * - with --single-threaded too: 170, 169, 169, and a peak of 173-176 MB against 234-241. In
 *   /proc/<pid>/smaps, V8's background threads (compiling WASM, helping the GC) had left about
 *   75 MB in malloc arenas of their own; without them, compiling and GC run on the server's one
 *   thread, which is idle between queries. Start-up took as long (12 s to /healthz on a new
 *   data folder either way). MALLOC_ARENA_MAX=1 instead saved nothing (196 MB).
 * PGlite's WASM memory cannot start smaller than its module's 128 MB minimum (a LinkError), and
 * only what Postgres touches of it is resident (32 MB here).
 */
const PGLITE_NODE_ARGS = ['--wasm-lazy-compilation', '--max-semi-space-size=2', '--single-threaded'];

/**
 * Where pglite-child.mjs is: beside the bundled gateway (a build asset), or beside this
 * file when running from source (tests).
 */
function serverScript(): string {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const script = join(here, 'pglite-child.mjs');
  if (!existsSync(script)) throw new Error(`${script} not found (a build asset of the app)`);
  return script;
}

/**
 * The embedded database: PGlite served on a Unix socket by a child process
 * (pglite-child.mjs, on @electric-sql/pglite-socket), reached with the stock `pg` driver
 * like any PostgreSQL. Its WASM memory (about 150 MB, and 800 MB during initdb) stays out of
 * the process that uses it. The socket lives in a private temporary directory (mode 0700),
 * so no other local user can connect. PGlite is one session: one process uses one server,
 * and one folder takes one server at a time.
 */
export class PgliteServer {
  private exit: Promise<void>;
  private closing = false;

  private constructor(
    private readonly child: ChildProcess,
    /** The directory holding the socket: `host` for node-postgres. */
    readonly socketDir: string,
  ) {
    this.exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        // Queries fail from here on; say why once, where the process's own log goes.
        if (!this.closing) console.error(`the embedded PGlite server (pid ${child.pid}) exited (${signal ?? `code ${code}`})`);
        resolve();
      }),
    );
  }

  /** Starts a server on `dataDir` (created and initialised if new), or in memory without one. */
  static async start(options: { dataDir?: string } = {}): Promise<PgliteServer> {
    if (options.dataDir) {
      mkdirSync(options.dataDir, { recursive: true });
      initPgliteDir(options.dataDir);
    }
    const socketDir = mkdtempSync(join(tmpdir(), 'servable-pg-'));
    const args = ['--socket', join(socketDir, '.s.PGSQL.5432'), ...(options.dataDir ? ['--data-dir', options.dataDir] : [])];
    // Flags of its own, not the parent's (--cpu-prof, a test runner's loaders are not the server's).
    const child = fork(serverScript(), args, { execArgv: PGLITE_NODE_ARGS, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const server = new PgliteServer(child, socketDir);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the PGlite server did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
        child.once('message', (m: { ready?: boolean; error?: string }) => {
          clearTimeout(timer);
          if (m.ready) resolve();
          else reject(new Error(`the PGlite server failed to start: ${m.error}`));
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`the PGlite server exited while starting (${signal ?? `code ${code}`})`));
        });
      });
    } catch (err) {
      server.closing = true;
      await server.close();
      throw err;
    }
    // It never keeps its parent alive by itself; when the parent exits it sees the IPC channel close and stops.
    child.unref();
    child.channel?.unref();
    return server;
  }

  /** node-postgres connection settings (TypeORM's host, port, username, database). */
  get connection(): { host: string; port: number; user: string; database: string } {
    return { host: this.socketDir, port: 5432, user: 'postgres', database: 'postgres' };
  }

  /** The server process (to measure it). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Closes PGlite (it writes its data back) and waits for the server to exit. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.child.exitCode === null && this.child.signalCode === null) {
      if (this.child.connected) this.child.disconnect();
      else this.child.kill('SIGKILL');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.exit;
      clearTimeout(timer);
    }
    rmSync(this.socketDir, { recursive: true, force: true });
  }
}
