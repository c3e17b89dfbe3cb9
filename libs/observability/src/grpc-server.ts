import type { Metadata } from '@grpc/grpc-js';
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
 * This is Nest's processing-start hook rather than an interceptor on purpose:
 * any interceptor makes Nest build an rxjs pipeline and two
 * AsyncResource.bind wrappers per call, which cost more main-thread time in
 * inference than its batching did.
 */
export function grpcServerStrategy(options: GrpcOptions): CustomStrategy {
  const server = new ServerGrpc(options.options);
  server.setOnProcessingStartHook((_transport, context, done) => {
    const metadata = (context as { metadata?: Metadata } | undefined)?.metadata;
    return runWithRequestContext(requestContextFrom(first(metadata, REQUEST_ID_HEADER), first(metadata, TRACEPARENT_HEADER)), done);
  });
  return { strategy: server };
}
