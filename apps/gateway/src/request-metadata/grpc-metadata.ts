import { REQUEST_ID_HEADER, RequestCancellation, grpcRequestContext, type RequestContext } from '@servable/observability';
import type { Metadata } from '@grpc/grpc-js';
import type { RequestMetadata, ResponseMetadata } from './request-metadata';

interface CallLike {
  getDeadline?(): Date | number;
  sendMetadata?(metadata: Metadata): void;
  cancelled?: boolean;
  once?(event: 'cancelled', listener: () => void): unknown;
}

/**
 * The call's request context, with a cancellation that fires when the caller cancels the call
 * (or its deadline passes on its side): its Predict is then cancelled at inference, as a REST
 * client's is when it closes the connection.
 */
export function grpcCallContext(metadata: Metadata | undefined, call?: unknown): RequestContext {
  const context = grpcRequestContext(metadata);
  const c = call as CallLike | undefined;
  if (!c?.once) return context;
  const cancellation = new RequestCancellation();
  if (c.cancelled) cancellation.abort();
  else c.once('cancelled', () => cancellation.abort());
  return { ...context, cancellation };
}

/** Text metadata as a header bag, for cohort rules and the route key. */
function metadataHeaders(metadata: Metadata | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!metadata?.getMap) return out;
  for (const [key, value] of Object.entries(metadata.getMap())) if (typeof value === 'string') out[key] = value;
  return out;
}

/** A call's metadata, and its grpc-timeout as the caller's timeout. */
export function grpcMetadata(metadata: Metadata | undefined, call?: unknown): RequestMetadata {
  return {
    get: (key) => {
      const value = metadata?.get?.(key)?.[0];
      return value === undefined ? undefined : value.toString();
    },
    get headers() {
      return metadataHeaders(metadata);
    },
    timeoutMs: () => {
      const deadline = (call as CallLike | undefined)?.getDeadline?.();
      const at = deadline instanceof Date ? deadline.getTime() : deadline;
      // A deadline already passed still counts as 1 ms, so the call fails as DEADLINE_EXCEEDED, not as a bad argument.
      return typeof at === 'number' && Number.isFinite(at) ? Math.max(1, at - Date.now()) : undefined;
    },
  };
}

/** The answer's metadata as the call's initial metadata, before the reply. */
export function sendResponseMetadata(call: unknown, metadata: Metadata | undefined, headers: ResponseMetadata): void {
  const c = call as CallLike | undefined;
  if (!c?.sendMetadata || !metadata) return;
  const out = metadata.clone();
  for (const key of Object.keys(out.getMap())) out.remove(key);
  // The request's id, as a REST answer's header carries it (grpcRequestContext wrote one in if the caller sent none).
  const requestId = metadata.get(REQUEST_ID_HEADER)[0];
  if (typeof requestId === 'string') out.set(REQUEST_ID_HEADER, requestId);
  for (const [name, value] of headers) out.set(name, value);
  c.sendMetadata(out);
}
