import type { FastifyReply, FastifyRequest } from 'fastify';
import { REQUEST_ID_HEADER, RequestCancellation, TRACEPARENT_HEADER, bindRequestContext, requestContextFrom } from '@servable/observability';

/**
 * Binds each request's context (x-request-id, traceparent) to it: handlers
 * pass it to the downstream calls, and the request log line carries it. The
 * id is echoed back.
 */
export function attachRequestContext(request: FastifyRequest, reply: FastifyReply): void {
  const ctx = requestContextFrom(request.headers[REQUEST_ID_HEADER], request.headers[TRACEPARENT_HEADER]);
  // The access log names the request by this header: keep its id and ours the same.
  request.headers[REQUEST_ID_HEADER] = ctx.requestId;
  // On Node's response (Fastify merges it into the one it sends): the access log's line about a
  // failed request then shows every header of the answer, as res.getHeaders() sees only these.
  reply.raw.setHeader(REQUEST_ID_HEADER, ctx.requestId);
  // A client that closes the connection before the answer has given up: its Predict is cancelled
  // at inference (its rows leave the batch queue) instead of running for nobody. The request
  // logging middleware's 'close' listener fires it, so a request pays for one listener, not two.
  ctx.cancellation = new RequestCancellation();
  // Handlers see Fastify's request, the access log (Node-level) the raw one.
  bindRequestContext(request, ctx);
  bindRequestContext(request.raw, ctx);
}
