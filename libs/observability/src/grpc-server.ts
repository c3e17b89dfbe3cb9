import type { Metadata } from '@grpc/grpc-js';
import { Logger } from '@nestjs/common';
import { ServerGrpc, type CustomStrategy, type GrpcOptions } from '@nestjs/microservices';
import { REQUEST_ID_HEADER, TRACEPARENT_HEADER, requestContextFrom, runWithRequestContext } from './request-context';

const first = (metadata: Metadata | undefined, key: string): string | undefined => {
  const value = metadata?.get?.(key)?.[0];
  return value === undefined ? undefined : value.toString();
};

/**
 * Nest's gRPC server, with every call handled inside the request context
 * taken from its metadata (x-request-id, traceparent). Logs written while the
 * call is served, and the calls it makes downstream, then carry the ids of the
 * hop that started it.
 *
 * Each call is also logged at debug (LOG_LEVEL=debug) with its method, so a
 * request can be followed through every hop by its id; failed calls are logged
 * at warn by GrpcExceptionFilter.
 *
 * This is Nest's processing-start hook rather than an interceptor on purpose:
 * any interceptor makes Nest build an rxjs pipeline and two
 * AsyncResource.bind wrappers per call, which cost more main-thread time in
 * inference than its batching did.
 */
export function grpcServerStrategy(options: GrpcOptions): CustomStrategy {
  const server = new ServerGrpc(options.options);
  const logger = new Logger('gRPC');
  server.setOnProcessingStartHook((_transport, context, done) => {
    const call = context as { metadata?: Metadata; path?: string } | undefined;
    const metadata = call?.metadata;
    return runWithRequestContext(requestContextFrom(first(metadata, REQUEST_ID_HEADER), first(metadata, TRACEPARENT_HEADER)), () => {
      logger.debug({ method: call?.path }, 'gRPC call');
      return done();
    });
  });
  return { strategy: server };
}
