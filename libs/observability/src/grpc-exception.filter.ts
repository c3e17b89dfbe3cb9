import { Catch, Logger, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { Observable, throwError } from 'rxjs';
import { ErrorCode, ServableError } from '@servable/contracts';
import { toGrpcError } from '@servable/contracts/grpc';

/**
 * Maps every error a gRPC handler throws onto the taxonomy. A ServableError
 * keeps its code and message and is logged at warn; anything else is a bug:
 * the caller gets INTERNAL with an errorId, and the log gets the same id with
 * the stack, at error. Both lines are written inside the call's request
 * context, so they carry the x-request-id and traceparent of the hop that made
 * the call.
 */
@Catch()
export class GrpcExceptionFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('GrpcExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    // Argument 2 of a gRPC handler is the call; its path names the method ("/servable.tokenizer.v1.TokenizerService/Encode").
    const method = (host.getArgByIndex(2) as { getPath?: () => string } | undefined)?.getPath?.() ?? 'gRPC call';
    if (exception instanceof ServableError) {
      this.logger.warn({ method, code: exception.code }, `${method} failed: ${exception.code}: ${exception.message}`);
      return throwError(() => toGrpcError(exception));
    }
    if (exception instanceof RpcException) {
      const error = exception.getError();
      if (typeof error === 'object' && error !== null && 'code' in error) return throwError(() => error);
    }
    const errorId = randomUUID();
    this.logger.error({ err: exception, errorId, method }, `${method}: unhandled error ${errorId}`);
    return throwError(() =>
      toGrpcError(new ServableError(ErrorCode.INTERNAL, `internal error (errorId ${errorId})`)),
    );
  }
}
