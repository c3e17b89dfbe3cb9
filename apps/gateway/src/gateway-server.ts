import fastifyMultipart from '@fastify/multipart';
import type {} from '@fastify/static'; // reply.sendFile()
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Logger } from 'nestjs-pino';
import { HealthRegistry, grpcOptions } from '@servable/contracts/grpc';
import { bindWithRetry, createLogger, drainGrpcServer, drainHttpServer, grpcServerStrategy, requestLoggingMiddleware, sleep } from '@servable/observability';
import { withReflection } from './grpc/reflection';
import { ControlPlane, controlPlaneOptionsFromEnv, type DatabaseOptions } from '@servable/persistence';
import { AppModule } from './app.module';
import type { GatewayConfig } from './config/gateway.config';
import { attachRequestContext } from './context/request-context.hook';
import { HttpExceptionFilter } from './errors/http-exception.filter';
import { createFastifyAdapter } from './http/fastify-adapter';
import { ReadinessService } from './health/readiness.service';
import { PredictionService } from './inference/prediction.service';
import { restInferenceCall } from './metrics/refused-requests';
import { importLogLines } from './control-plane/import-report';
import { openApiDocument } from './http/openapi';

/** How often grpc.health.v1 is brought in line with readiness: as often as the data plane's health is polled by default. */
const HEALTH_MIRROR_MS = 1_000;

export interface RunningGateway {
  app: NestFastifyApplication;
  httpUrl: string;
  grpcUrl: string;
  controlPlane: ControlPlane;
  /** The admin key the first start created; shown once, never stored in plain text. */
  createdAdminKey?: string;
  /**
   * Kubernetes' order: readiness fails at once; after `graceMs` (default SHUTDOWN_GRACE_MS,
   * so endpoint updates land) REST and gRPC stop taking work and the requests in flight
   * finish; then the downstream channels close and the last metric buckets are written.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

export interface GatewayDependencies {
  /** Where the control plane's database is; from DATABASE_URL / SERVABLE_DATA_DIR unless a test passes its own. */
  database?: DatabaseOptions;
}

/** Starts REST and gRPC in one process; used by main.ts and by the tests. */
export async function startGateway(config: GatewayConfig, deps: GatewayDependencies = {}): Promise<RunningGateway> {
  const options = controlPlaneOptionsFromEnv(config);
  // Migrations, repository import and the first admin key happen before anything listens.
  const logger = createLogger('gateway');
  const controlPlane = await ControlPlane.open({ ...options, database: deps.database ?? options.database, onError: backgroundErrorLogger(logger) });
  let app: NestFastifyApplication;
  let createdAdminKey: string | undefined;
  try {
    const started = await controlPlane.startUp(config.SERVABLE_ADMIN_KEY);
    createdAdminKey = started.createdAdminKey;
    for (const line of importLogLines(options.repositoryRoot, existsSync(options.repositoryRoot), started.imported)) logger[line.level]({ context: 'ModelRepository' }, line.msg);
    // bodyParser off: createFastifyAdapter reads the bodies.
    app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, controlPlane, logger), createFastifyAdapter(config), { bodyParser: false, bufferLogs: true });
  } catch (err) {
    await controlPlane.close().catch(() => undefined);
    throw err;
  }
  app.useLogger(app.get(Logger));
  if (config.SERVABLE_AUTH === 'off') {
    app.get(Logger).warn('SERVABLE_AUTH=off: dev mode, no API key is checked and every caller is admin. Never expose this gateway.', 'Auth');
  }
  const fastify = app.getHttpAdapter().getInstance();
  let draining = false;
  // While draining, every answer closes its connection, so keep-alive clients reconnect (to another replica).
  // One hook for all three (each hook is a step of Fastify's runner for every request).
  const logRequest = requestLoggingMiddleware(logger);
  fastify.addHook('onRequest', (request, reply, done) => {
    if (draining) reply.header('connection', 'close');
    attachRequestContext(request, reply);
    logRequest(request.raw, reply.raw, done);
  });
  // Only the admin upload reads its parts (MultipartFilesInterceptor, with the route's limits).
  await app.register(fastifyMultipart);
  // A request refused before predict (body, tensor, key) is counted too, under no version.
  const predictions = app.get(PredictionService);
  app.useGlobalFilters(
    new HttpExceptionFilter((request, exception, code) => {
      const call = restInferenceCall(request.url);
      if (call) predictions.countRefused(call, exception, code, request.headers);
    }),
  );
  serveAdmin(app, config.ADMIN_STATIC_DIR);
  SwaggerModule.setup('docs', app, openApiDocument(app));
  // No enableShutdownHooks(): main.ts owns the signals, and close() below orders the shutdown.

  const grpcStrategy = grpcServerStrategy(
    withReflection(
      grpcOptions(config.GATEWAY_GRPC_URL, ['gateway', 'oip', 'tfservingPrediction', 'tfservingModel', 'health'], {
        // Clients reconnect at least this often, so a gateway replica added behind a Service gets its share of long-lived gRPC clients.
        'grpc.max_connection_age_ms': 60_000,
        'grpc.max_connection_age_grace_ms': 10_000,
      }),
    ),
    undefined,
    // A line per call, as REST has: the gateway's gRPC API is a public one.
    { accessLog: true },
  );
  const grpcServer = app.connectMicroservice(grpcStrategy);
  const log = (m: string) => app.get(Logger).warn(m, 'Gateway');
  try {
    await bindWithRetry(`gRPC ${config.GATEWAY_GRPC_URL}`, () => grpcServer.listen(), log);
    await bindWithRetry(`REST ${config.GATEWAY_HTTP_HOST}:${config.GATEWAY_HTTP_PORT}`, () => app.listen(config.GATEWAY_HTTP_PORT, config.GATEWAY_HTTP_HOST), log);
  } catch (err) {
    await app.close().catch(() => undefined);
    await controlPlane.close().catch(() => undefined);
    throw err;
  }
  // grpc.health.v1 says what /readyz says, and from the start: NOT_SERVING until the data plane answers.
  const stopHealthMirror = app.get(ReadinessService).mirrorInto(app.get(HealthRegistry), HEALTH_MIRROR_MS);

  const address = app.getHttpServer().address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    app,
    httpUrl: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
    grpcUrl: config.GATEWAY_GRPC_URL,
    controlPlane,
    createdAdminKey,
    async close({ graceMs = config.SHUTDOWN_GRACE_MS } = {}) {
      stopHealthMirror();
      app.get(HealthRegistry).set('NOT_SERVING');
      app.get(ReadinessService).startDraining();
      if (graceMs > 0) await sleep(graceMs);
      draining = true;
      await Promise.all([drainHttpServer(app.getHttpServer(), config.SHUTDOWN_DRAIN_MS), drainGrpcServer(grpcStrategy, config.SHUTDOWN_DRAIN_MS)]);
      // Only now: module destroy hooks close the downstream channels the drained requests used.
      await app.close();
      // Last: it flushes the metrics the requests above recorded.
      await controlPlane.close();
    },
  };
}

/** The admin API, which the console's SPA fallback must leave to Nest. */
const ADMIN_API_PATH = /^\/admin\/api(?:[/?]|$)/i;

/** The admin console build at /admin, with index.html for any client-side route (SPA fallback). */
function serveAdmin(app: NestFastifyApplication, dir: string): void {
  if (!existsSync(join(dir, 'index.html'))) return;
  // One route per file of the build (it does not change while the gateway runs): the router
  // prefers them to the fallback below, and Nest's /admin/api routes to both.
  app.useStaticAssets({ root: dir, prefix: '/admin/', wildcard: false, index: 'index.html' });
  app.getHttpAdapter().getInstance().get('/admin/*', (request, reply) => {
    // An unknown admin API path is the API's 404 ({"error", "code"}), not the console.
    if (ADMIN_API_PATH.test(request.url)) return reply.callNotFound();
    return reply.type('text/html; charset=utf-8').sendFile('index.html');
  });
}

/** How often a failing background task of the control plane (metric flushes, change polling) is logged. */
const BACKGROUND_ERROR_LOG_MS = 30_000;

/**
 * The control plane's onError: its metric flushes and change polling failed without a word
 * (a database outage left no trace in the log). The first failure is logged at once, then at
 * most one line per BACKGROUND_ERROR_LOG_MS saying how many more there were, so an outage with
 * a poll every 500 ms does not flood the log.
 */
export function backgroundErrorLogger(logger: { error(obj: object, msg: string): void }, now = Date.now): (err: Error) => void {
  let lastAt = -Infinity;
  let suppressed = 0;
  return (err) => {
    const at = now();
    if (at - lastAt < BACKGROUND_ERROR_LOG_MS) {
      suppressed++;
      return;
    }
    logger.error({ context: 'ControlPlane', err, ...(suppressed ? { suppressed } : {}) }, `control plane background work failed: ${err.message}`);
    lastAt = at;
    suppressed = 0;
  };
}
