import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import type { Server } from 'node:http';
import { Logger } from 'nestjs-pino';
import { HealthRegistry, grpcOptions } from '@servable/contracts/grpc';
import { GrpcExceptionFilter, bindWithRetry, drainGrpcServer, grpcServerStrategy, serverAddress, sleep, startSidecarHttp } from '@servable/observability';
import { AppModule } from './app.module';
import type { InferenceConfig } from './config/inference.config';
import { InferenceMetrics } from './metrics/inference.metrics';
import type { ModelSource } from './models/manifest';
import { ModelManager } from './models/model-manager.service';
import { WorkerPool } from './workers/worker-pool';
import { predictWorkerScript } from './workers/worker-script';

export interface RunningInference {
  app: INestMicroservice;
  http: Server;
  grpcUrl: string;
  httpUrl: string;
  backend: string;
  models: ModelManager;
  /** Settles when the start-up policy's versions are AVAILABLE (or FAILED). */
  startupLoaded: Promise<void>;
  /**
   * Kubernetes' order: readiness fails at once; after `graceMs` (default SHUTDOWN_GRACE_MS)
   * gRPC stops taking calls, the queued and running requests finish (at most
   * SHUTDOWN_DRAIN_MS), then the side port and the workers stop.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

export interface StartOptions {
  source: ModelSource;
  workerScript?: { path: string };
}

/** Starts the worker pool, the gRPC server and its HTTP side port; used by main.ts and by the tests. */
export async function startInference(config: InferenceConfig, options: StartOptions): Promise<RunningInference> {
  const pool = new WorkerPool(config.INFERENCE_WORKERS, options.workerScript ?? predictWorkerScript(), { backend: config.INFERENCE_BACKEND });
  const backend = await pool.start();
  const grpc = grpcServerStrategy(grpcOptions(config.INFERENCE_GRPC_URL, ['inference', 'health']));
  const app = await NestFactory.createMicroservice(AppModule.forRoot({ config, pool, source: options.source }), { ...grpc, bufferLogs: true });
  const logger = app.get(Logger);
  app.useLogger(logger);
  app.useGlobalFilters(new GrpcExceptionFilter());
  const log = (m: string) => logger.warn(m, 'Inference');
  try {
    await bindWithRetry(`gRPC ${config.INFERENCE_GRPC_URL}`, () => app.listen(), log);
  } catch (err) {
    await app.close().catch(() => undefined);
    await pool.close();
    throw err;
  }
  logger.log(`backend ${backend} on ${config.INFERENCE_WORKERS} worker thread(s)`, 'Inference');

  const models = app.get(ModelManager);
  const health = app.get(HealthRegistry);
  let draining = false;
  const http = await startSidecarHttp({
    host: config.INFERENCE_HTTP_HOST,
    port: config.INFERENCE_HTTP_PORT,
    registry: app.get(InferenceMetrics).registry,
    readiness: async () => {
      const report = models.readiness();
      return { ready: report.ready && !draining, checks: { draining, backend, versions: report.checks } };
    },
    log,
  });
  // Loading runs after the server listens: status and probes answer while versions warm up.
  const startupLoaded = models.applyStartupPolicy().then(() => {
    if (models.readiness().ready && !draining) health.set('SERVING');
  });
  return {
    app,
    http,
    grpcUrl: config.INFERENCE_GRPC_URL,
    httpUrl: serverAddress(http),
    backend,
    models,
    startupLoaded,
    async close({ graceMs = config.SHUTDOWN_GRACE_MS } = {}) {
      draining = true;
      // Every service name, the whole server ("") included: the gateways stop sending here within a health check.
      health.set('NOT_SERVING');
      if (graceMs > 0) await sleep(graceMs);
      // New calls are refused (the gateway retries them on another replica); queued and running ones finish.
      await Promise.all([drainGrpcServer(grpc, config.SHUTDOWN_DRAIN_MS), Promise.race([models.drainAll(), sleep(config.SHUTDOWN_DRAIN_MS)])]);
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await app.close();
      await pool.close();
    },
  };
}
