import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import type { Server } from 'node:http';
import { Logger } from 'nestjs-pino';
import { HealthRegistry, grpcOptions } from '@servable/contracts/grpc';
import { GrpcExceptionFilter, grpcServerStrategy, serverAddress, startSidecarHttp } from '@servable/observability';
import { AppModule, INFERENCE_SERVICE } from './app.module';
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
  /** Drains every queue, then stops gRPC, the side port and the workers. */
  close(): Promise<void>;
}

export interface StartOptions {
  source: ModelSource;
  workerScript?: { path: string };
}

/** Starts the worker pool, the gRPC server and its HTTP side port; used by main.ts and by the tests. */
export async function startInference(config: InferenceConfig, options: StartOptions): Promise<RunningInference> {
  const pool = new WorkerPool(config.INFERENCE_WORKERS, options.workerScript ?? predictWorkerScript(), { backend: config.INFERENCE_BACKEND });
  const backend = await pool.start();
  const app = await NestFactory.createMicroservice(AppModule.forRoot({ config, pool, source: options.source }), {
    ...grpcServerStrategy(grpcOptions(config.INFERENCE_GRPC_URL, ['inference', 'health'])),
    bufferLogs: true,
  });
  const logger = app.get(Logger);
  app.useLogger(logger);
  app.useGlobalFilters(new GrpcExceptionFilter());
  await app.listen();
  logger.log(`backend ${backend} on ${config.INFERENCE_WORKERS} worker thread(s)`, 'Inference');

  const models = app.get(ModelManager);
  const health = app.get(HealthRegistry);
  const http = await startSidecarHttp({
    host: config.INFERENCE_HTTP_HOST,
    port: config.INFERENCE_HTTP_PORT,
    registry: app.get(InferenceMetrics).registry,
    readiness: async () => {
      const report = models.readiness();
      return { ready: report.ready, checks: { backend, versions: report.checks } };
    },
  });
  // Loading runs after the server listens: status and probes answer while versions warm up.
  const startupLoaded = models.applyStartupPolicy().then(() => {
    if (models.readiness().ready) health.set('SERVING');
  });
  return {
    app,
    http,
    grpcUrl: config.INFERENCE_GRPC_URL,
    httpUrl: serverAddress(http),
    backend,
    models,
    startupLoaded,
    async close() {
      health.set('NOT_SERVING', INFERENCE_SERVICE);
      await Promise.race([models.drainAll(), new Promise((r) => setTimeout(r, config.SHUTDOWN_DRAIN_MS).unref())]);
      // Nest shuts gRPC down forcefully: give the answers of the drained requests a moment to leave.
      await new Promise((r) => setTimeout(r, 100));
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await app.close();
      await pool.close();
    },
  };
}
