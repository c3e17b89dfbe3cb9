import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { sendHttpError, toHttpError } from './error-response';

/** Maps every error of an HTTP handler to {"error", "code"} and the taxonomy's status. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const error = toHttpError(exception);
    if (error.errorId) this.logger.error({ err: exception, errorId: error.errorId }, `unhandled error ${error.errorId}`);
    sendHttpError(host.switchToHttp().getResponse<ServerResponse>(), error);
  }
}
