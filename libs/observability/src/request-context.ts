import type { IncomingHttpHeaders } from 'node:http';
import { randomUUID } from 'node:crypto';

/** What identifies one request across gateway, tokenizer and inference. */
export interface RequestContext {
  requestId: string;
  /** W3C trace context, passed on untouched so an external tracer can join the hops. */
  traceparent?: string;
  /** Fires when the client gives up on the request (it closed the connection, or cancelled the call). */
  cancellation?: RequestCancellation;
}

/**
 * A request its client gave up on: work for it downstream may stop. Lighter than an
 * AbortController (no EventTarget), since every request that reaches inference makes one.
 */
export class RequestCancellation {
  aborted = false;
  private listeners: Array<() => void> | undefined;

  /** Runs `listener` when the request is cancelled (at once if it is); returns its removal. */
  onAbort(listener: () => void): () => void {
    if (this.aborted) {
      listener();
      return () => undefined;
    }
    (this.listeners ??= []).push(listener);
    return () => {
      const i = this.listeners?.indexOf(listener) ?? -1;
      if (i >= 0) this.listeners?.splice(i, 1);
    };
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listeners = this.listeners;
    this.listeners = undefined;
    for (const listener of listeners ?? []) listener();
  }
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

/** The part of grpc-js Metadata read here. */
interface MetadataLike {
  get(key: string): unknown[];
  set?(key: string, value: string): void;
}

/**
 * The context of a gRPC call, from its metadata. An id made up here (the caller sent none, or
 * a malformed one) is written back into the metadata, so every later read of the same call,
 * its log lines and the x-request-id it answers with, names the same request.
 */
export function grpcRequestContext(metadata: MetadataLike | undefined): RequestContext {
  const first = (key: string) => {
    const value = metadata?.get?.(key)?.[0];
    return value === undefined ? undefined : String(value);
  };
  const sent = first(REQUEST_ID_HEADER);
  const context = requestContextFrom(sent, first(TRACEPARENT_HEADER));
  if (context.requestId !== sent) metadata?.set?.(REQUEST_ID_HEADER, context.requestId);
  return context;
}

const CONTEXT = Symbol('servable.requestContext');

/** Node's IncomingMessage, or a framework's request object around it (Fastify's): anything with the headers. */
export interface HttpRequestLike {
  headers: IncomingHttpHeaders;
}
type WithContext = HttpRequestLike & { [CONTEXT]?: RequestContext };

/** Attaches the context to an HTTP request, for the handlers and the request log line. */
export function bindRequestContext(req: HttpRequestLike, context: RequestContext): void {
  (req as WithContext)[CONTEXT] = context;
}

/** The context bound to an HTTP request; one from its headers if none was bound. */
export function requestContextOf(req: HttpRequestLike): RequestContext {
  return (req as WithContext)[CONTEXT] ?? requestContextFrom(req.headers[REQUEST_ID_HEADER], req.headers[TRACEPARENT_HEADER]);
}

/** The fields a log line about a request carries: requestId, and traceparent when there is one. */
export function requestLogFields(context: RequestContext | undefined): Record<string, string> {
  if (!context) return {};
  return context.traceparent ? { requestId: context.requestId, traceparent: context.traceparent } : { requestId: context.requestId };
}
