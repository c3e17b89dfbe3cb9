import { Catch, Logger, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { Observable, throwError } from 'rxjs';
import { ErrorCode, ServableError } from '@servable/contracts';
import { toGrpcError, type GrpcErrorPayload } from '@servable/contracts/grpc';
import { REQUEST_ID_HEADER, grpcRequestContext, requestLogFields, type RequestContext } from './request-context';

/**
 * Maps every error a gRPC handler throws onto the taxonomy. A ServableError
 * keeps its code and message and is logged at warn; anything else is a bug:
 * the caller gets INTERNAL with an errorId, and the log gets the same id with
 * the stack, at error. Both lines carry the x-request-id and traceparent the
 * caller sent in the call's metadata.
 */
@Catch()
export class GrpcExceptionFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('GrpcExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    const method = grpcMethodOf(host) ?? 'gRPC call';
    if (exception instanceof RpcException) {
      const error = exception.getError();
      if (typeof error === 'object' && error !== null && 'code' in error) return throwError(() => error);
    }
    const failure = grpcFailure(exception, method, grpcRequestContext(host.getArgByIndex(1)), this.logger);
    return throwError(() => failure);
  }
}

/** The method a gRPC handler serves: its arguments are (request, metadata, call), and the call's path names it. */
export function grpcMethodOf(host: ArgumentsHost): string | undefined {
  return (host.getArgByIndex(2) as { getPath?: () => string } | undefined)?.getPath?.();
}

/**
 * The status a failed gRPC request answers with, logged as the filter above logs it: a
 * ServableError at warn with its code, anything else at error with a new errorId (the caller
 * gets INTERNAL and the id). For a request that is not a call of its own, such as an item of
 * inference's PredictStream.
 */
export function grpcFailure(exception: unknown, method: string, context: RequestContext | undefined, logger: Pick<Logger, 'debug' | 'warn' | 'error'>): GrpcErrorPayload {
  const ids = requestLogFields(context);
  if (exception instanceof ServableError) {
    // A status lookup that finds nothing is an answer, not a failure: the gateway's reconcile asks
    // every replica about every registered model each round, and a warn line each buried the log.
    const answer = exception.code === ErrorCode.NOT_FOUND && method.endsWith('/GetModelStatus');
    logger[answer ? 'debug' : 'warn']({ ...ids, method, code: exception.code }, `${method} failed: ${exception.code}: ${exception.message}`);
    return withRequestId(toGrpcError(exception), context);
  }
  const errorId = randomUUID();
  logger.error({ ...ids, err: exception, errorId, method }, `${method}: unhandled error ${errorId}`);
  return withRequestId(toGrpcError(new ServableError(ErrorCode.INTERNAL, `internal error (errorId ${errorId})`)), context);
}

/** The failed call's trailers name its request, as a REST answer's x-request-id header does: what to grep the logs for. */
function withRequestId(payload: GrpcErrorPayload, context: RequestContext | undefined): GrpcErrorPayload {
  if (context) payload.metadata.set(REQUEST_ID_HEADER, context.requestId);
  return payload;
}
