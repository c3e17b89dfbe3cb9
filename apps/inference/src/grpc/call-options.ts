import type { SubmitOptions } from '../batching/dynamic-batcher';

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
    const controller = new AbortController();
    if (c.cancelled) controller.abort();
    c.on('cancelled', () => controller.abort());
    options.signal = controller.signal;
  }
  return options;
}
