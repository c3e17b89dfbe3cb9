import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@servable/observability/testing';
import { TestDatabase } from '@servable/persistence/testing';
import { ROOT, Service, buildApps, type Exit } from '@servable/launcher';

export { ROOT };
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
  buildApps([...APPS, 'admin']);
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

export type { Exit };

/**
 * One app process started from dist as a user would, in its own process group
 * (detached) so a signal reaches all it spawned, its output appended to <logDir>/<name>.log.
 * It can be started again after it stopped, with the same env and ports, as an
 * orchestrator restarts a container.
 */
export class ServiceProcess extends Service {
  constructor(
    readonly spec: ServiceSpec,
    readonly logDir: string,
  ) {
    super({ name: spec.name, app: spec.app, env: spec.env, readyUrl: spec.readyUrl, detached: true, output: { file: join(logDir, `${spec.name}.log`) } });
  }

  get logFile(): string {
    return join(this.logDir, `${this.spec.name}.log`);
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
