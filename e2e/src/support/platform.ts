import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '@servable/observability/testing';
import { TestDatabase } from '@servable/persistence/testing';

export const ROOT = resolve(__dirname, '../../..');
export const MODELS = join(ROOT, 'models');
const APPS = ['tokenizer', 'inference', 'gateway'] as const;
export type AppName = (typeof APPS)[number];


/**
 * Builds the three apps and the console through Nx, so a stale dist/ never hides a change:
 * Nx's cache makes it a few seconds when nothing changed. E2E_NO_BUILD=1 skips it.
 */
let built = false;
export function ensureBuilt(): void {
  if (built || process.env['E2E_NO_BUILD']) return;
  const r = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '-p', ...APPS, 'admin', '--outputStyle=static'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building tokenizer, inference, gateway and admin failed');
  built = true;
}

/** The model versions in the repository, oldest first. */
export function modelVersions(model = 'spam'): number[] {
  return readdirSync(join(MODELS, model))
    .filter((d) => /^\d+$/.test(d) && existsSync(join(MODELS, model, d, 'servable.json')))
    .map(Number)
    .sort((a, b) => a - b);
}

export function manifestOf(version: number, model = 'spam'): { tokenizer: { hash: string; pad_id: number }; labels: string[]; max_length: number } {
  return JSON.parse(readFileSync(join(MODELS, model, String(version), 'servable.json'), 'utf8'));
}

/** What one process of the platform is: the app it runs from dist, its env, and the URL that says it is ready. */
export interface ServiceSpec {
  /** The log file's name: the app, or gateway-2, inference@127.0.0.2... for replicas. */
  name: string;
  app: AppName;
  env: Record<string, string>;
  readyUrl: string;
}

/** How a process ended: its exit code, or the signal that ended it. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One app process started from dist as a user would, in its own process group
 * (detached) so a signal reaches all it spawned. It can be started again after it
 * stopped, with the same env and ports, as an orchestrator restarts a container.
 */
export class ServiceProcess {
  private child?: ChildProcess;
  private exit?: Promise<Exit>;

  constructor(
    readonly spec: ServiceSpec,
    readonly logDir: string,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get logFile(): string {
    return join(this.logDir, `${this.spec.name}.log`);
  }

  /** True from start() until the process has exited. */
  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the process and resolves once its readyUrl answers 200. */
  async start(timeoutMs = 180_000): Promise<void> {
    this.spawn();
    await this.waitReady(timeoutMs);
  }

  /** Spawns the process without waiting for it to be ready (to time its start-up). */
  spawn(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(process.execPath, [join(ROOT, 'dist/apps', this.spec.app, 'main.js')], {
      cwd: ROOT,
      env: { ...process.env, ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.child = child;
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  async waitReady(timeoutMs = 180_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) {
        const how = this.child ? await this.exit : undefined;
        throw new Error(`${this.name} exited (${how ? `code ${how.code}, signal ${how.signal}` : 'never started'}); see ${this.logFile}`);
      }
      try {
        if ((await fetch(this.spec.readyUrl)).status === 200) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > until) throw new Error(`${this.name} not ready after ${timeoutMs} ms; see ${this.logFile}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Sends `signal` to the process group; a no-op once it has exited. */
  signal(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (!this.running || pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      /* already gone */
    }
  }

  /** Resolves with how the process ended (at once if it already has); undefined if it never started. */
  exited(): Promise<Exit | undefined> {
    return this.exit ?? Promise.resolve(undefined);
  }

  /** SIGTERM to the process group, SIGKILL if it has not exited after a grace period. */
  async stop(graceMs = 5_000): Promise<Exit | undefined> {
    if (!this.running) return this.exited();
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    const how = await this.exited();
    clearTimeout(timer);
    return how;
  }

  /** SIGKILL to the process group (kill -9: no shutdown code runs); resolves once it has exited. */
  async kill(): Promise<Exit | undefined> {
    this.signal('SIGKILL');
    return this.exited();
  }
}

/** The admin key every e2e gateway registers (SERVABLE_ADMIN_KEY). */
export const ADMIN_KEY = 'svb_e2e_admin_key_0123456789abcdef';

export interface Platform {
  /** REST base URL of the gateway. */
  url: string;
  /** What the gateway's control plane uses: a scratch PostgreSQL database (DATABASE_URL set) or a PGlite folder. */
  database: Record<string, string>;
  /** host:port of the inference gRPC server. */
  inferenceUrl: string;
  /** host:port of the gateway's gRPC server. */
  grpcUrl: string;
  /** host:port of the tokenizer's gRPC server (to make ids the way a client would). */
  tokenizerUrl: string;
  /** Folder with one <app>.log per process. */
  logDir: string;
  /** The Prometheus endpoint of each service (the gateway's own port, the data plane's side ports). */
  metricsUrls: Record<AppName, string>;
  stop(name: AppName): Promise<void>;
  start(name: AppName): Promise<void>;
  /**
   * Another gateway process on the same database, tokenizer and inference, on ports of
   * its own (a second replica). Stopped by close(). Needs PostgreSQL: one process only
   * may open a PGlite folder.
   */
  startGateway(env?: Record<string, string>): Promise<ExtraGateway>;
  close(): Promise<void>;
}

export interface ExtraGateway {
  url: string;
  grpcUrl: string;
  stop(): Promise<void>;
}

export interface PlatformOptions {
  /** Env for all three services, e.g. MODEL_REPOSITORY of a scratch copy. */
  common?: Record<string, string>;
  /** Env per service, applied last (the gateway's also comes from the first argument). */
  env?: Partial<Record<AppName, Record<string, string>>>;
}

/**
 * Starts tokenizer, inference and gateway from dist as a user would, each in
 * its own process group (detached) so stopping one kills all it spawned.
 */
export async function startPlatform(gatewayEnv: Record<string, string> = {}, options: PlatformOptions = {}): Promise<Platform> {
  ensureBuilt();
  const logDir = mkdtempSync(join(tmpdir(), 'servable-e2e-'));
  const [tokGrpc, tokHttp, infGrpc, infHttp, gwHttp, gwGrpc] = await Promise.all(Array.from({ length: 6 }, freePort));
  // No unready grace on stop (SHUTDOWN_GRACE_MS): nothing but the test routes here; a test of the grace sets its own.
  const common = { MODEL_REPOSITORY: MODELS, LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: '0', ...options.common };
  // A database of its own per platform: with DATABASE_URL a scratch PostgreSQL database, else a PGlite folder.
  const testDb = process.env['DATABASE_URL'] ? await TestDatabase.create() : undefined;
  const database: Record<string, string> = testDb?.url ? { DATABASE_URL: testDb.url } : { SERVABLE_DATA_DIR: join(logDir, 'data') };
  const specs: Record<AppName, ServiceSpec> = {
    tokenizer: {
      name: 'tokenizer',
      app: 'tokenizer',
      env: { ...common, TOKENIZER_GRPC_URL: `127.0.0.1:${tokGrpc}`, TOKENIZER_HTTP_PORT: String(tokHttp), TOKENIZER_HTTP_HOST: '127.0.0.1', ...options.env?.tokenizer },
      readyUrl: `http://127.0.0.1:${tokHttp}/readyz`,
    },
    inference: {
      name: 'inference',
      app: 'inference',
      env: { ...common, INFERENCE_GRPC_URL: `127.0.0.1:${infGrpc}`, INFERENCE_HTTP_PORT: String(infHttp), INFERENCE_HTTP_HOST: '127.0.0.1', INFERENCE_WORKERS: '1', ...options.env?.inference },
      readyUrl: `http://127.0.0.1:${infHttp}/readyz`,
    },
    gateway: {
      name: 'gateway',
      app: 'gateway',
      env: {
        ...common,
        ...gatewayDefaults(database),
        GATEWAY_HTTP_PORT: String(gwHttp),
        GATEWAY_HTTP_HOST: '127.0.0.1',
        GATEWAY_GRPC_URL: `127.0.0.1:${gwGrpc}`,
        TOKENIZER_URL: `127.0.0.1:${tokGrpc}`,
        INFERENCE_URL: `127.0.0.1:${infGrpc}`,
        ...gatewayEnv,
        ...options.env?.gateway,
      },
      readyUrl: `http://127.0.0.1:${gwHttp}/readyz`,
    },
  };
  const services = Object.fromEntries(APPS.map((app) => [app, new ServiceProcess(specs[app], logDir)])) as Record<AppName, ServiceProcess>;
  const start = (name: AppName) => services[name].start();
  const stop = async (name: AppName) => void (await services[name].stop());

  const extraGateways: ServiceProcess[] = [];
  const startGateway = async (env: Record<string, string> = {}): Promise<ExtraGateway> => {
    const [http, grpcPort] = await Promise.all([freePort(), freePort()]);
    const service = new ServiceProcess(
      {
        name: `gateway-${extraGateways.length + 2}`,
        app: 'gateway',
        env: { ...specs.gateway.env, GATEWAY_HTTP_PORT: String(http), GATEWAY_GRPC_URL: `127.0.0.1:${grpcPort}`, ...env },
        readyUrl: `http://127.0.0.1:${http}/readyz`,
      },
      logDir,
    );
    extraGateways.push(service);
    await service.start();
    return { url: `http://127.0.0.1:${http}`, grpcUrl: `127.0.0.1:${grpcPort}`, stop: async () => void (await service.stop()) };
  };

  const platform: Platform = {
    url: `http://127.0.0.1:${gwHttp}`,
    database,
    inferenceUrl: `127.0.0.1:${infGrpc}`,
    grpcUrl: `127.0.0.1:${gwGrpc}`,
    tokenizerUrl: `127.0.0.1:${tokGrpc}`,
    logDir,
    metricsUrls: {
      gateway: `http://127.0.0.1:${gwHttp}/metrics`,
      tokenizer: `http://127.0.0.1:${tokHttp}/metrics`,
      inference: `http://127.0.0.1:${infHttp}/metrics`,
    },
    start,
    stop,
    startGateway,
    async close() {
      for (const service of extraGateways) await service.stop();
      for (const name of [...APPS].reverse()) await stop(name);
      await testDb?.drop();
    },
  };
  try {
    await Promise.all([start('tokenizer'), start('inference')]);
    await start('gateway');
  } catch (err) {
    await platform.close();
    throw err;
  }
  return platform;
}

/** The env every e2e gateway gets besides its ports and data-plane addresses: its database, the admin key, short control-plane periods. */
export function gatewayDefaults(database: Record<string, string>): Record<string, string> {
  return {
    SERVABLE_ADMIN_KEY: ADMIN_KEY,
    RECONCILE_INTERVAL_MS: '1000',
    METRICS_FLUSH_INTERVAL_MS: '500',
    ...database,
  };
}
