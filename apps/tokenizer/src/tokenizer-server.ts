import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import type { Server } from 'node:http';
import { Logger } from 'nestjs-pino';
import { grpcOptions } from '@servable/contracts/grpc';
import { GrpcExceptionFilter, grpcServerStrategy, serverAddress, startSidecarHttp } from '@servable/observability';
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
  close(): Promise<void>;
}

/** Starts the gRPC server and its HTTP side port; used by main.ts and by the tests. */
export async function startTokenizer(config: TokenizerConfig): Promise<RunningTokenizer> {
  const app = await NestFactory.createMicroservice(AppModule.forRoot(config), {
    ...grpcServerStrategy(grpcOptions(config.TOKENIZER_GRPC_URL, ['tokenizer', 'health'])),
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.useGlobalFilters(new GrpcExceptionFilter());
  app.enableShutdownHooks();
  await app.listen();

  const preload = app.get(PreloadService);
  const cache = app.get(EncodeCache);
  const http = await startSidecarHttp({
    host: config.TOKENIZER_HTTP_HOST,
    port: config.TOKENIZER_HTTP_PORT,
    registry: app.get(TokenizerMetrics).registry,
    readiness: async () => {
      const redis = cache.level2 === 'redis' ? ((await cache.ping()) ? 'up' : 'down (serving without it)') : 'not configured';
      // Redis is optional by design, so it never makes the service unready.
      return { ready: preload.ready, checks: { tokenizers: preload.ready ? 'loaded' : 'loading', failed: preload.failures, redis } };
    },
  });
  return {
    app,
    http,
    grpcUrl: config.TOKENIZER_GRPC_URL,
    httpUrl: serverAddress(http),
    async close() {
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await app.close();
    },
  };
}
