import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What identifies one request across gateway, tokenizer and inference. */
export interface RequestContext {
  requestId: string;
  /** W3C trace context, passed on untouched so an external tracer can join the hops. */
  traceparent?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

export const REQUEST_ID_HEADER = 'x-request-id';
export const TRACEPARENT_HEADER = 'traceparent';

// version-traceid-parentid-flags; anything else is dropped rather than forwarded.
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
// Request ids come from clients: bound them so a log line cannot be stuffed.
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Builds the context from incoming headers or gRPC metadata values, minting an id when none is usable. */
export function requestContextFrom(requestId: unknown, traceparent: unknown): RequestContext {
  const id = typeof requestId === 'string' && REQUEST_ID.test(requestId) ? requestId : randomUUID();
  const tp = typeof traceparent === 'string' && TRACEPARENT.test(traceparent) ? traceparent : undefined;
  return tp ? { requestId: id, traceparent: tp } : { requestId: id };
}

/** Fields that every log line written inside a request carries (pino `mixin`). */
export function requestLogFields(): Record<string, string> {
  const ctx = storage.getStore();
  if (!ctx) return {};
  return ctx.traceparent ? { requestId: ctx.requestId, traceparent: ctx.traceparent } : { requestId: ctx.requestId };
}
