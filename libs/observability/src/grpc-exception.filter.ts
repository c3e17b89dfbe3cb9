import { Catch, Logger, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { Observable, throwError } from 'rxjs';
import { ErrorCode, ServableError } from '@servable/contracts';
import { toGrpcError } from '@servable/contracts/grpc';

/**
 * Maps every error a gRPC handler throws onto the taxonomy. A ServableError
 * keeps its code and message; anything else is a bug: the caller gets INTERNAL
 * with an errorId, and the log gets the same id with the stack.
 */
@Catch()
export class GrpcExceptionFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('GrpcExceptionFilter');

  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    if (exception instanceof ServableError) return throwError(() => toGrpcError(exception));
    if (exception instanceof RpcException) {
      const error = exception.getError();
      if (typeof error === 'object' && error !== null && 'code' in error) return throwError(() => error);
    }
    const errorId = randomUUID();
    this.logger.error({ err: exception, errorId }, `unhandled error ${errorId}`);
    return throwError(() =>
      toGrpcError(new ServableError(ErrorCode.INTERNAL, `internal error (errorId ${errorId})`)),
    );
  }
}
