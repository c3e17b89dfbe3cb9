import type { CancelSignal, SubmitOptions } from '../batching/dynamic-batcher';

/**
 * Cancellation of one call. grpc-js also reports 'cancelled' for calls that
 * already finished, so this must be cheap: AbortController builds a
 * DOMException (with a stack) on every abort.
 */
export class CallCancellation implements CancelSignal {
  aborted = false;
  private listener?: () => void;

  addEventListener(_type: 'abort', listener: () => void): void {
    this.listener = listener;
  }

  removeEventListener(): void {
    this.listener = undefined;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listener = this.listener;
    this.listener = undefined;
    listener?.();
  }
}

interface CallLike {
  getDeadline?(): Date | number;
  on?(event: 'cancelled', listener: () => void): unknown;
  cancelled?: boolean;
}

/**
 * The call's deadline (on the batcher's performance.now() clock) and an abort
 * signal that fires when the client cancels, from grpc-js's ServerUnaryCall
 * (Nest passes it as the handler's third argument).
 */
export function submitOptionsFrom(call: unknown): SubmitOptions {
  const c = (call ?? {}) as CallLike;
  const options: SubmitOptions = {};
  const deadline = c.getDeadline?.();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (typeof at === 'number' && Number.isFinite(at)) options.deadline = performance.now() + (at - Date.now());
  if (c.on) {
    const cancellation = new CallCancellation();
    if (c.cancelled) cancellation.abort();
    c.on('cancelled', () => cancellation.abort());
    options.signal = cancellation;
  }
  return options;
}
