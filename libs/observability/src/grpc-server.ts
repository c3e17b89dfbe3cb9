import type { Metadata } from '@grpc/grpc-js';
import { Logger } from '@nestjs/common';
import { ServerGrpc, type CustomStrategy, type GrpcOptions } from '@nestjs/microservices';
import { grpcRequestContext, requestLogFields } from './request-context';

const DEBUG_LEVELS = new Set(['debug', 'trace']);

/**
 * Nest's gRPC server. With LOG_LEVEL=debug (or trace) every call it serves
 * is logged with its method and the caller's x-request-id and traceparent,
 * so a request can be followed through every hop; failed calls are logged at
 * warn by GrpcExceptionFilter whatever the level. At other levels no hook is
 * installed and a call costs nothing extra.
 */
export function grpcServerStrategy(options: GrpcOptions, logLevel = process.env['LOG_LEVEL'] ?? 'info'): CustomStrategy {
  const server = new ServerGrpc(options.options);
  if (DEBUG_LEVELS.has(logLevel)) {
    const logger = new Logger('gRPC');
    server.setOnProcessingStartHook((_transport, context, done) => {
      const call = context as { metadata?: Metadata; path?: string } | undefined;
      logger.debug({ method: call?.path, ...requestLogFields(grpcRequestContext(call?.metadata)) }, 'gRPC call');
      return done();
    });
  }
  return { strategy: server };
}
