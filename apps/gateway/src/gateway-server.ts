import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { createReadStream, existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Logger } from 'nestjs-pino';
import { HealthRegistry, grpcOptions } from '@servable/contracts/grpc';
import { bindWithRetry, createLogger, drainGrpcServer, drainHttpServer, grpcServerStrategy, requestLoggingMiddleware, sleep } from '@servable/observability';
import { isBinaryInferRequest } from './http/oip-binary';
import { withReflection } from './grpc/reflection';
import { ControlPlane, controlPlaneOptionsFromEnv, type DatabaseOptions } from '@servable/persistence';
import { AppModule } from './app.module';
import type { GatewayConfig } from './config/gateway.config';
import { requestContextMiddleware } from './context/request-context.middleware';
import { bodyErrorMiddleware } from './errors/body-error.middleware';
import { HttpExceptionFilter } from './errors/http-exception.filter';
import { ReadinessService } from './health/readiness.service';
import { openApiDocument } from './http/openapi';

/** Longest a shutdown waits for requests in flight before it cuts them off. */
const DRAIN_TIMEOUT_MS = 30_000;

export interface RunningGateway {
  app: NestExpressApplication;
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
  const controlPlane = await ControlPlane.open({ ...options, database: deps.database ?? options.database });
  const logger = createLogger('gateway');
  let app: NestExpressApplication;
  let createdAdminKey: string | undefined;
  try {
    ({ createdAdminKey } = await controlPlane.startUp(config.SERVABLE_ADMIN_KEY));
    app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, controlPlane, logger), { bodyParser: false, bufferLogs: true });
  } catch (err) {
    await controlPlane.close().catch(() => undefined);
    throw err;
  }
  app.useLogger(app.get(Logger));
  if (config.SERVABLE_AUTH === 'off') {
    app.get(Logger).warn('SERVABLE_AUTH=off: dev mode, no API key is checked and every caller is admin. Never expose this gateway.', 'Auth');
  }
  // An ETag costs a hash of every answer, and no client revalidates a prediction.
  app.set('etag', false);
  app.disable('x-powered-by');
  // API answers are computed per request: an ETag (a hash of every body) would never be used.
  app.set('etag', false);
  let draining = false;
  // While draining, every answer closes its connection, so keep-alive clients reconnect (to another replica).
  app.use((_req: IncomingMessage, res: ServerResponse, next: () => void) => {
    if (draining) res.setHeader('connection', 'close');
    next();
  });
  app.use(requestContextMiddleware);
  app.use(requestLoggingMiddleware(logger));
  // Every body but a multipart upload or an OIP binary-tensor request is read as JSON whatever its content-type
  // (curl -d sends form encoding), up to MAX_BODY_BYTES.
  app.useBodyParser('json', {
    limit: config.MAX_BODY_BYTES,
    type: (req) => !/^multipart\//i.test(String(req.headers['content-type'] ?? '')) && !isBinaryInferRequest(req),
  });
  // OIP binary tensor data (tritonclient.http's default): JSON header + raw tensors, split by the OIP controller.
  app.useBodyParser('raw', { limit: config.MAX_BODY_BYTES, type: isBinaryInferRequest });
  app.use(bodyErrorMiddleware);
  app.useGlobalFilters(new HttpExceptionFilter());
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
  app.get(HealthRegistry).set('SERVING');

  const address = app.getHttpServer().address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    app,
    httpUrl: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
    grpcUrl: config.GATEWAY_GRPC_URL,
    controlPlane,
    createdAdminKey,
    async close({ graceMs = config.SHUTDOWN_GRACE_MS } = {}) {
      app.get(HealthRegistry).set('NOT_SERVING');
      app.get(ReadinessService).startDraining();
      if (graceMs > 0) await sleep(graceMs);
      draining = true;
      await Promise.all([drainHttpServer(app.getHttpServer(), DRAIN_TIMEOUT_MS), drainGrpcServer(grpcStrategy, DRAIN_TIMEOUT_MS)]);
      // Only now: module destroy hooks close the downstream channels the drained requests used.
      await app.close();
      // Last: it flushes the metrics the requests above recorded.
      await controlPlane.close();
    },
  };
}

/** Under the /admin mount: the admin API, which the console's SPA fallback must leave to Nest. */
const ADMIN_API_PATH = /^\/api(?:[/?]|$)/;

/** The admin console build at /admin, with index.html for any client-side route (SPA fallback). */
function serveAdmin(app: NestExpressApplication, dir: string): void {
  const index = join(dir, 'index.html');
  if (!existsSync(index)) return;
  app.useStaticAssets(dir, { prefix: '/admin', index: 'index.html' });
  app.use('/admin', (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    // It runs before Nest's routes, so it must let the admin API through.
    if ((req.method !== 'GET' && req.method !== 'HEAD') || ADMIN_API_PATH.test(req.url ?? '')) return next();
    res.setHeader('content-type', 'text/html; charset=utf-8');
    createReadStream(index).pipe(res);
  });
}
