import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '@servable/observability/testing';
import { TestDatabase, copyRepository } from '@servable/persistence/testing';
import { ensureBuilt, gatewayDefaults, ServiceProcess, type AppName, type Exit } from './platform';

/** A data-plane replica on a loopback address of its own, e.g. 127.0.0.2. */
export interface Replica {
  /** tokenizer@127.0.0.2: also its log file's name. */
  name: string;
  app: Extract<AppName, 'tokenizer' | 'inference'>;
  host: string;
  /** host:port of its gRPC server, as it appears in the gateways' address list. */
  grpcUrl: string;
  /** Base URL of its HTTP side port (/metrics, /readyz). */
  httpUrl: string;
  process: ServiceProcess;
  readonly running: boolean;
  /** Starts it (again) on the same address and ports, and waits until its /readyz answers 200. */
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<Exit | undefined>;
  /** kill -9 of its process group; resolves once it has exited. */
  kill(): Promise<Exit | undefined>;
  /** Its Prometheus exposition text. */
  metrics(): Promise<string>;
}

export interface GatewayReplica {
  name: string;
  /** REST base URL. */
  url: string;
  /** host:port of its gRPC server. */
  grpcUrl: string;
  process: ServiceProcess;
  start(): Promise<void>;
  stop(): Promise<Exit | undefined>;
}

/** A loopback host, or one that is in the gateways' address list but started only later (by the test). */
export type ReplicaHost = string | { host: string; startNow: false };

export interface ReplicaPlatformOptions {
  /** Gateway processes, all on one PostgreSQL database (default 2). */
  gateways?: number;
  tokenizers: ReplicaHost[];
  inference: ReplicaHost[];
  /**
   * How the gateways get the addresses of a service's replicas (default: the plain
   * comma list host:port,host:port; `ipv4:` + that list is gRPC's own notation).
   */
  addressList?: (grpcUrls: string[]) => string;
  /**
   * Gateways (by index) that get one DNS name per service instead of the static list
   * (tokenizer.replicas.test:<p>, inference.replicas.test:<p>), as a headless Service gives
   * them. support/fake-dns.cjs answers for those names in the gateway's process: with the
   * replicas started with the platform, until a test publishes others.
   */
  dnsGateways?: number[];
  /** Env per app, applied after the harness's own. */
  env?: Partial<Record<AppName, Record<string, string>>>;
}

export interface ReplicaPlatform {
  gateways: GatewayReplica[];
  tokenizers: Replica[];
  inference: Replica[];
  /** The static address lists the gateways got (TOKENIZER_URL, INFERENCE_URL). */
  tokenizerUrl: string;
  inferenceUrl: string;
  /** The scratch model repository every process shares. */
  repository: string;
  databaseUrl: string;
  logDir: string;
  /** The DNS names (host:port) the dnsGateways got. */
  names: Record<Replica['app'], string>;
  /** From now on the service's DNS name resolves to these replicas, as a headless Service lists its ready pods. */
  publish(app: Replica['app'], replicas: Replica[]): void;
  /** Stops every process still running (gateways first), drops the database, removes the repository. */
  close(): Promise<void>;
}

const FAKE_DNS = resolve(__dirname, 'fake-dns.cjs');
const hostOf = (r: ReplicaHost) => (typeof r === 'string' ? r : r.host);
const startsNow = (r: ReplicaHost) => typeof r === 'string' || r.startNow;

/**
 * Several replicas of every service on one machine, as a headless Service would
 * put them behind one name: each data-plane replica binds its own loopback
 * address (127.0.0.2, 127.0.0.3, ...) on the port all replicas of its service
 * share, and every gateway gets the static list of those addresses. Gateways
 * share one scratch PostgreSQL database (DATABASE_URL must be set: PGlite is one
 * process) and all processes one scratch copy of the model repository.
 */
export async function startReplicaPlatform(options: ReplicaPlatformOptions): Promise<ReplicaPlatform> {
  if (!process.env['DATABASE_URL']) throw new Error('several gateway replicas need PostgreSQL: set DATABASE_URL');
  ensureBuilt();
  const logDir = mkdtempSync(join(tmpdir(), 'servable-replicas-'));
  const repo = copyRepository();
  const testDb = await TestDatabase.create();
  const databaseUrl = testDb.url;
  if (!databaseUrl) throw new Error('TestDatabase gave no PostgreSQL URL although DATABASE_URL is set');
  // No unready grace on stop (SHUTDOWN_GRACE_MS) unless a test sets one: nothing but the tests route here.
  const common = { MODEL_REPOSITORY: repo.root, LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: '0' };

  const replicasOf = async (app: Replica['app'], hosts: ReplicaHost[]) => {
    const all = hosts.map(hostOf);
    const [grpcPort, httpPort] = [await freePortOn(all), await freePortOn(all)];
    const upper = app.toUpperCase();
    const replicas = all.map((host): Replica => {
      const name = `${app}@${host}`;
      const httpUrl = `http://${host}:${httpPort}`;
      const service = new ServiceProcess(
        {
          name,
          app,
          env: {
            ...common,
            [`${upper}_GRPC_URL`]: `${host}:${grpcPort}`,
            [`${upper}_HTTP_HOST`]: host,
            [`${upper}_HTTP_PORT`]: String(httpPort),
            ...(app === 'inference' ? { INFERENCE_WORKERS: '1' } : {}),
            ...options.env?.[app],
          },
          readyUrl: `${httpUrl}/readyz`,
        },
        logDir,
      );
      return {
        name,
        app,
        host,
        grpcUrl: `${host}:${grpcPort}`,
        httpUrl,
        process: service,
        get running() {
          return service.running;
        },
        start: () => service.start(),
        stop: () => service.stop(),
        kill: () => service.kill(),
        metrics: async () => {
          const res = await fetch(`${httpUrl}/metrics`);
          if (res.status !== 200) throw new Error(`${name} /metrics answered ${res.status}`);
          return res.text();
        },
      };
    });
    return replicas;
  };

  const tokenizers = await replicasOf('tokenizer', options.tokenizers);
  const inference = await replicasOf('inference', options.inference);
  const addressList = options.addressList ?? ((urls: string[]) => urls.join(','));
  const tokenizerUrl = addressList(tokenizers.map((r) => r.grpcUrl));
  const inferenceUrl = addressList(inference.map((r) => r.grpcUrl));
  const names = {
    tokenizer: `tokenizer.replicas.test:${tokenizers[0].grpcUrl.split(':')[1]}`,
    inference: `inference.replicas.test:${inference[0].grpcUrl.split(':')[1]}`,
  };
  const dnsFile = join(logDir, 'dns.json');
  const published: Record<Replica['app'], string[]> = {
    tokenizer: tokenizers.filter((_, i) => startsNow(options.tokenizers[i])).map((r) => r.host),
    inference: inference.filter((_, i) => startsNow(options.inference[i])).map((r) => r.host),
  };
  const writeDns = () => {
    // Written whole, then renamed: a lookup never reads half a file.
    writeFileSync(`${dnsFile}.tmp`, JSON.stringify({ [names.tokenizer.split(':')[0]]: published.tokenizer, [names.inference.split(':')[0]]: published.inference }));
    renameSync(`${dnsFile}.tmp`, dnsFile);
  };
  const publish = (app: Replica['app'], replicas: Replica[]) => {
    published[app] = replicas.map((r) => r.host);
    writeDns();
  };
  writeDns();

  const gateways: GatewayReplica[] = [];
  for (let i = 0; i < (options.gateways ?? 2); i++) {
    const byName = options.dnsGateways?.includes(i) ?? false;
    const [http, grpcPort] = [await freePort(), await freePort()];
    const name = `gateway-${String.fromCharCode(97 + i)}`;
    const service = new ServiceProcess(
      {
        name,
        app: 'gateway',
        env: {
          ...common,
          ...gatewayDefaults({ DATABASE_URL: databaseUrl }),
          GATEWAY_HTTP_PORT: String(http),
          GATEWAY_HTTP_HOST: '127.0.0.1',
          GATEWAY_GRPC_URL: `127.0.0.1:${grpcPort}`,
          TOKENIZER_URL: byName ? names.tokenizer : tokenizerUrl,
          INFERENCE_URL: byName ? names.inference : inferenceUrl,
          ...(byName ? { NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --require ${FAKE_DNS}`.trim(), E2E_FAKE_DNS: dnsFile } : {}),
          ...options.env?.gateway,
        },
        readyUrl: `http://127.0.0.1:${http}/readyz`,
      },
      logDir,
    );
    gateways.push({ name, url: `http://127.0.0.1:${http}`, grpcUrl: `127.0.0.1:${grpcPort}`, process: service, start: () => service.start(), stop: () => service.stop() });
  }

  const platform: ReplicaPlatform = {
    gateways,
    tokenizers,
    inference,
    tokenizerUrl,
    inferenceUrl,
    repository: repo.root,
    databaseUrl,
    logDir,
    names,
    publish,
    async close() {
      // Gateways first, as a rollout would drain them before the data plane; each stop is awaited, even after a failure.
      for (const g of gateways) await g.stop().catch(() => undefined);
      await Promise.all([...tokenizers, ...inference].map((r) => r.stop().catch(() => undefined)));
      await testDb.drop().catch(() => undefined);
      repo.remove();
    },
  };
  try {
    const dataPlane = [...tokenizers.filter((_, i) => startsNow(options.tokenizers[i])), ...inference.filter((_, i) => startsNow(options.inference[i]))];
    // Everything is spawned at once, and no start waits for another service's readiness: a data-plane
    // replica may well count as ready only once a gateway has told it what to load.
    for (const r of dataPlane) r.process.spawn();
    const gatewaysUp = async () => {
      // One after the other: the first applies the migrations and imports the repository.
      for (const g of gateways) await g.start();
    };
    await Promise.all([...dataPlane.map((r) => r.process.waitReady()), gatewaysUp()]);
  } catch (err) {
    await platform.close();
    throw new Error(`the replica platform did not start (logs in ${logDir}): ${(err as Error).message}`);
  }
  return platform;
}

/** A TCP port free on every one of `hosts` right now (each replica of a service binds the same port on its own address). */
export async function freePortOn(hosts: string[], attempts = 20): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    const port = await listenOnce(hosts[0], 0);
    const rest = await Promise.all(hosts.slice(1).map((h) => listenOnce(h, port).then(() => true, () => false)));
    if (rest.every(Boolean)) return port;
  }
  throw new Error(`no port free on all of ${hosts.join(', ')} after ${attempts} tries`);
}

function listenOnce(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRNOTAVAIL' ? new Error(`${host} is not a local address: the replica suite needs the loopback range 127.0.0.0/8 (Linux)`) : err),
    );
    server.listen(port, host, () => {
      const bound = (server.address() as { port: number }).port;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * The sum of a Prometheus counter's samples whose name matches `name` and whose
 * labels pass `where`. Tolerant of renames (a regex) and of label order; a
 * counter that was never incremented is absent, which is 0.
 */
export function counterSum(exposition: string, name: RegExp, where: (labels: Record<string, string>) => boolean = () => true): number {
  let sum = 0;
  for (const line of exposition.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || !name.test(m[1])) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (where(have)) sum += Number(m[3]);
  }
  return sum;
}
