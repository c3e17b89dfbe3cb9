import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestContextOf, requestLogFields } from '@servable/observability';
import { sendHttpError, toHttpError } from './error-response';

/** Maps every error of an HTTP handler to {"error", "code"} and the taxonomy's status. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const error = toHttpError(exception);
    if (error.errorId) {
      const ids = requestLogFields(requestContextOf(host.switchToHttp().getRequest<FastifyRequest>()));
      this.logger.error({ ...ids, err: exception, errorId: error.errorId }, `unhandled error ${error.errorId}`);
    }
    sendHttpError(host.switchToHttp().getResponse<FastifyReply>(), error);
  }
}
