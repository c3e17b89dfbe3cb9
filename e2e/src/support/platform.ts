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

interface Service {
  /** The log file's name: the app, or gateway-2... for extra gateways. */
  name: string;
  app: AppName;
  env: Record<string, string>;
  readyUrl: string;
  child?: ChildProcess;
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
  const services: Record<AppName, Service> = {
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
        GATEWAY_HTTP_PORT: String(gwHttp),
        GATEWAY_HTTP_HOST: '127.0.0.1',
        GATEWAY_GRPC_URL: `127.0.0.1:${gwGrpc}`,
        TOKENIZER_URL: `127.0.0.1:${tokGrpc}`,
        INFERENCE_URL: `127.0.0.1:${infGrpc}`,
        SERVABLE_ADMIN_KEY: ADMIN_KEY,
        RECONCILE_INTERVAL_MS: '1000',
        METRICS_FLUSH_INTERVAL_MS: '500',
        ...database,
        ...gatewayEnv,
        ...options.env?.gateway,
      },
      readyUrl: `http://127.0.0.1:${gwHttp}/readyz`,
    },
  };

  const run = async (service: Service) => {
    const log = createWriteStream(join(logDir, `${service.name}.log`), { flags: 'a' });
    const child = spawn(process.execPath, [join(ROOT, 'dist/apps', service.app, 'main.js')], {
      cwd: ROOT,
      env: { ...process.env, ...service.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    service.child = child;
    await waitReady(service, logDir);
  };
  const halt = async (service: Service) => {
    const child = service.child;
    service.child = undefined;
    if (child) await kill(child);
  };
  const start = (name: AppName) => run(services[name]);
  const stop = (name: AppName) => halt(services[name]);

  const extraGateways: Service[] = [];
  const startGateway = async (env: Record<string, string> = {}): Promise<ExtraGateway> => {
    const [http, grpcPort] = await Promise.all([freePort(), freePort()]);
    const service: Service = {
      name: `gateway-${extraGateways.length + 2}`,
      app: 'gateway',
      env: { ...services.gateway.env, GATEWAY_HTTP_PORT: String(http), GATEWAY_GRPC_URL: `127.0.0.1:${grpcPort}`, ...env },
      readyUrl: `http://127.0.0.1:${http}/readyz`,
    };
    extraGateways.push(service);
    await run(service);
    return { url: `http://127.0.0.1:${http}`, grpcUrl: `127.0.0.1:${grpcPort}`, stop: () => halt(service) };
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
      for (const service of extraGateways) await halt(service);
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

async function waitReady(service: Service, logDir: string, timeoutMs = 180_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const child = service.child;
    if (!child || child.exitCode !== null) {
      throw new Error(`${service.name} exited with ${child?.exitCode}; see ${join(logDir, `${service.name}.log`)}`);
    }
    try {
      if ((await fetch(service.readyUrl)).status === 200) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > until) throw new Error(`${service.name} not ready after ${timeoutMs} ms; see ${join(logDir, `${service.name}.log`)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** SIGTERM to the process group, SIGKILL if it has not exited after a grace period. */
async function kill(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, s);
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
