import type { IncomingMessage, ServerResponse } from 'node:http';
import { REQUEST_ID_HEADER, TRACEPARENT_HEADER, bindRequestContext, requestContextFrom } from '@servable/observability';

/**
 * Binds each request's context (x-request-id, traceparent) to it: handlers
 * pass it to the downstream calls, and the request log line carries it. The
 * id is echoed back.
 */
export function requestContextMiddleware(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  const ctx = requestContextFrom(req.headers[REQUEST_ID_HEADER], req.headers[TRACEPARENT_HEADER]);
  // pino-http names the request by this header: keep its id and ours the same.
  req.headers[REQUEST_ID_HEADER] = ctx.requestId;
  res.setHeader(REQUEST_ID_HEADER, ctx.requestId);
  bindRequestContext(req, ctx);
  next();
}
