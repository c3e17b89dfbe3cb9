import type { IncomingMessage, ServerResponse } from 'node:http';
import { REQUEST_ID_HEADER, TRACEPARENT_HEADER, requestContextFrom, runWithRequestContext } from '@servable/observability';

/**
 * Runs the rest of the request inside its context (x-request-id, traceparent),
 * so logs and the downstream gRPC calls carry them; the id is echoed back.
 */
export function requestContextMiddleware(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  const ctx = requestContextFrom(req.headers[REQUEST_ID_HEADER], req.headers[TRACEPARENT_HEADER]);
  // pino-http names the request by this header: keep its id and ours the same.
  req.headers[REQUEST_ID_HEADER] = ctx.requestId;
  res.setHeader(REQUEST_ID_HEADER, ctx.requestId);
  runWithRequestContext(ctx, next);
}
