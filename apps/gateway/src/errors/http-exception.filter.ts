import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { noteRequestFailure, requestContextOf, requestLogFields } from '@servable/observability';
import { sendHttpError, toHttpError } from './error-response';

/** Told of every failed request with the code it answers (the request counter counts the ones predict never saw). */
export type FailedRequestListener = (request: FastifyRequest, exception: unknown, code: string) => void;

/** Maps every error of an HTTP handler to {"error", "code"} and the taxonomy's status. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  constructor(private readonly onFailed?: FailedRequestListener) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const error = toHttpError(exception);
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    if (error.errorId) {
      const ids = requestLogFields(requestContextOf(request));
      this.logger.error({ ...ids, err: exception, errorId: error.errorId }, `unhandled error ${error.errorId}`);
    }
    // The access line of a failed request then says why, not only its status.
    noteRequestFailure(request.raw, { code: error.body.code, message: error.body.error });
    this.onFailed?.(request, exception, error.body.code);
    sendHttpError(host.switchToHttp().getResponse<FastifyReply>(), error);
  }
}
