import { ErrorCode, ServableError } from '@servable/contracts';

/**
 * The absolute deadline (epoch ms) of a request: the caller's own timeout when
 * it sent one (x-request-timeout-ms, or gRPC's grpc-timeout), capped, else the default.
 */
export function deadlineFrom(timeoutMs: number | undefined, defaultMs: number, maxMs: number, now = Date.now()): number {
  if (timeoutMs === undefined || !Number.isFinite(timeoutMs)) return now + defaultMs;
  if (timeoutMs <= 0) throw ServableError.invalid(`request timeout must be positive, got ${timeoutMs} ms`);
  return now + Math.min(timeoutMs, maxMs);
}

/** Parses the x-request-timeout-ms header; undefined when absent. */
export function parseTimeoutHeader(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0] : value;
  if (!/^\d+$/.test(text ?? '')) throw ServableError.invalid(`x-request-timeout-ms must be a whole number of milliseconds, got "${text}"`);
  return Number(text);
}

export function assertBeforeDeadline(deadline: number, what: string): void {
  if (Date.now() >= deadline) throw new ServableError(ErrorCode.DEADLINE_EXCEEDED, `deadline exceeded before ${what}`);
}
