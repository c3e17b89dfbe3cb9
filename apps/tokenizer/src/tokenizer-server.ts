import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import type { Server } from 'node:http';
import { Logger } from 'nestjs-pino';
import { HealthRegistry, grpcOptions } from '@servable/contracts/grpc';
import { GrpcExceptionFilter, bindWithRetry, drainGrpcServer, grpcServerStrategy, serverAddress, sleep, startSidecarHttp } from '@servable/observability';
import { existingRepositoryRoot } from '@servable/model-repository';
import { AppModule } from './app.module';
import type { TokenizerConfig } from './config/tokenizer.config';
import { EncodeCache } from './cache/encode-cache.service';
import { TokenizerMetrics } from './metrics/tokenizer.metrics';
import { PreloadService } from './registry/preload.service';

export interface RunningTokenizer {
  app: INestMicroservice;
  http: Server;
  grpcUrl: string;
  httpUrl: string;
  /**
   * Kubernetes' order: readiness fails at once; after `graceMs` (default SHUTDOWN_GRACE_MS)
   * gRPC stops taking calls and the calls in flight finish; then the side port and the app stop.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** Longest a shutdown waits for Encode calls in flight. */
const DRAIN_TIMEOUT_MS = 10_000;

/** Starts the gRPC server and its HTTP side port; used by main.ts and by the tests. */
export async function startTokenizer(config: TokenizerConfig): Promise<RunningTokenizer> {
  // A missing repository would preload nothing and report ready: fail start-up with its path instead.
  existingRepositoryRoot(config.MODEL_REPOSITORY);
  const grpc = grpcServerStrategy(grpcOptions(config.TOKENIZER_GRPC_URL, ['tokenizer', 'health']));
  const app = await NestFactory.createMicroservice(AppModule.forRoot(config), { ...grpc, bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.useGlobalFilters(new GrpcExceptionFilter());
  // No enableShutdownHooks(): main.ts owns the signals, and close() below orders the shutdown.
  const log = (m: string) => app.get(Logger).warn(m, 'Tokenizer');
  try {
    await bindWithRetry(`gRPC ${config.TOKENIZER_GRPC_URL}`, () => app.listen(), log);
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  let draining = false;

  const preload = app.get(PreloadService);
  const cache = app.get(EncodeCache);
  const http = await startSidecarHttp({
    host: config.TOKENIZER_HTTP_HOST,
    port: config.TOKENIZER_HTTP_PORT,
    registry: app.get(TokenizerMetrics).registry,
    readiness: async () => {
      const redis = cache.level2 === 'redis' ? ((await cache.ping()) ? 'up' : 'down (serving without it)') : 'not configured';
      // Redis is optional by design, so it never makes the service unready.
      return { ready: preload.ready && !draining, checks: { draining, tokenizers: preload.ready ? 'loaded' : 'loading', failed: preload.failures, redis } };
    },
    log,
  });
  return {
    app,
    http,
    grpcUrl: config.TOKENIZER_GRPC_URL,
    httpUrl: serverAddress(http),
    async close({ graceMs = config.SHUTDOWN_GRACE_MS } = {}) {
      draining = true;
      app.get(HealthRegistry).set('NOT_SERVING');
      if (graceMs > 0) await sleep(graceMs);
      await drainGrpcServer(grpc, DRAIN_TIMEOUT_MS);
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await app.close();
    },
  };
}
