import { randomUUID } from 'node:crypto';
import { errorCodes, type FastifyReply } from 'fastify';
import { ErrorCode, HTTP_STATUS, ServableError, isErrorCode, type ErrorBody } from '@servable/contracts';
import { isStoreUnreachable } from '@servable/persistence';

/** Fastify's answer to a body over bodyLimit (MAX_BODY_BYTES); Nest hands it to the filter as an HttpException with this message. */
const BODY_TOO_LARGE = new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE().message;

const CODE_BY_STATUS: Record<number, ErrorCode> = Object.fromEntries(
  Object.entries(HTTP_STATUS).map(([code, status]) => [status, code as ErrorCode]),
);

export interface HttpError {
  status: number;
  body: ErrorBody;
  retryAfterSeconds?: number;
  /** Set for INTERNAL: the same id goes to the log with the stack. */
  errorId?: string;
}

/**
 * Any error as the taxonomy's HTTP answer. A ServableError keeps its code and
 * message; a framework HTTP error keeps its status; an unreachable database is
 * UNAVAILABLE; anything else is INTERNAL with an errorId (the message is not shown:
 * it may leak internals).
 */
export function toHttpError(exception: unknown): HttpError {
  if (exception instanceof ServableError) {
    const retryAfterSeconds = exception.retryAfterSeconds ?? (exception.code === ErrorCode.UNAVAILABLE || exception.code === ErrorCode.RESOURCE_EXHAUSTED ? 1 : undefined);
    return { status: exception.httpStatus, body: { error: exception.message, code: exception.code }, retryAfterSeconds };
  }
  const e = exception as { status?: unknown; statusCode?: unknown; message?: unknown; getStatus?: () => number; getResponse?: () => unknown };
  // Nest's HttpException has getStatus(); Fastify's own errors (a bad content-length, media type) carry statusCode.
  const status = typeof e?.getStatus === 'function' ? e.getStatus() : typeof e?.statusCode === 'number' ? e.statusCode : typeof e?.status === 'number' ? e.status : undefined;
  if (status === 413 && e.message === BODY_TOO_LARGE) {
    // 413 rather than the table's 400: proxies and clients know it means "send less".
    return { status: 413, body: { error: `request body is over the MAX_BODY_BYTES limit (${BODY_TOO_LARGE})`, code: ErrorCode.INVALID_ARGUMENT } };
  }
  if (status !== undefined && status < 500) {
    const code = CODE_BY_STATUS[status] ?? ErrorCode.INVALID_ARGUMENT;
    const response = e.getResponse?.();
    const message = typeof response === 'object' && response && 'message' in response ? String((response as { message: unknown }).message) : String(e.message);
    return { status, body: { error: message, code: isErrorCode(code) ? code : ErrorCode.INVALID_ARGUMENT } };
  }
  // The control plane's database refused or lost the connection: the admin API is unavailable
  // for now (503, retry), not broken (a 500 with an errorId sent operators looking for a bug).
  if (isStoreUnreachable(exception)) {
    return { status: 503, body: { error: "the control plane's database is unreachable; retry shortly", code: ErrorCode.UNAVAILABLE }, retryAfterSeconds: 1 };
  }
  const errorId = randomUUID();
  return { status: 500, body: { error: `internal error (errorId ${errorId})`, code: ErrorCode.INTERNAL, errorId }, errorId };
}

export function sendHttpError(reply: FastifyReply, error: HttpError): void {
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.end();
    return;
  }
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  // A 401 names the scheme that would be accepted (RFC 9110): a key as a bearer token (or x-api-key).
  if (error.status === 401) reply.header('www-authenticate', 'Bearer realm="servable"');
  reply.code(error.status).type('application/json; charset=utf-8').send(JSON.stringify(error.body));
}
