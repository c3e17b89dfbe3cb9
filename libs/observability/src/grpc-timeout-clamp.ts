import { BaseServerInterceptingCall } from '@grpc/grpc-js/build/src/server-interceptors';

/** setTimeout's longest delay; a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** The same bound as a grpc-timeout value (35,791 minutes, 24.9 days), which grpc-js reads as given. */
const MAX_TIMEOUT_HEADER = `${Math.floor(MAX_TIMER_MS / 60_000)}M`;
const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 1e-3, n: 1e-6 };
/** grpc-js's own pattern for the header (server-interceptors.js DEADLINE_REGEX). */
const TIMEOUT_PATTERN = /(\d{1,8})\s*([HMSmun])/;

type TimeoutHandler = (this: unknown, header: unknown) => void;
const CLAMPED = Symbol.for('servable.grpcTimeoutClamped');

/**
 * Makes grpc-js's servers honour a long grpc-timeout instead of failing the call at once.
 *
 * grpc-js 1.14 reads the header as `(value * unitMs) | 0`. From 2^31 ms on (24.9 days: a
 * client's deadline of 30 days is "720H") that wraps to a negative or wrong number, and the
 * call ends with DEADLINE_EXCEEDED after about 1 ms, before a handler runs. grpc-go and
 * grpc-gateway clamp such a value instead. grpc-js parses the header in the call's
 * constructor, before any server interceptor sees the call, so no public hook can fix it:
 * this wraps that one method, and gives it the longest timeout a timer can hold when the
 * header asks for more. Every other value, and a malformed header, goes to grpc-js as sent.
 * Idempotent; it throws at start-up if grpc-js no longer has the method, so an upgrade that
 * moves it is seen (and the wrap can go once grpc-js reads the header safely).
 */
export function clampGrpcServerTimeouts(): void {
  const proto = BaseServerInterceptingCall.prototype as unknown as { handleTimeoutHeader?: TimeoutHandler; [CLAMPED]?: true };
  if (proto[CLAMPED]) return;
  const original = proto.handleTimeoutHeader;
  if (typeof original !== 'function') throw new Error('@grpc/grpc-js has no BaseServerInterceptingCall.handleTimeoutHeader: revisit clampGrpcServerTimeouts');
  proto.handleTimeoutHeader = function (this: unknown, header: unknown) {
    const match = TIMEOUT_PATTERN.exec(String(header));
    const tooLong = match !== null && Number(match[1]) * UNIT_MS[match[2]] > MAX_TIMER_MS;
    original.call(this, tooLong ? MAX_TIMEOUT_HEADER : header);
  };
  proto[CLAMPED] = true;
}
