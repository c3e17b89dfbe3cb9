import { z } from 'zod';
import { ErrorCode, HTTP_STATUS } from './error-code';

export interface ServableErrorOptions {
  /** Seconds a client should wait before retrying (sent as Retry-After with 429/503). */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/** An error a caller is meant to see: its message is safe to return as is. */
export class ServableError extends Error {
  readonly retryAfterSeconds?: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: ServableErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'ServableError';
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }

  static invalid(message: string): ServableError {
    return new ServableError(ErrorCode.INVALID_ARGUMENT, message);
  }

  static notFound(message: string): ServableError {
    return new ServableError(ErrorCode.NOT_FOUND, message);
  }

  static exhausted(message: string, retryAfterSeconds = 1): ServableError {
    return new ServableError(ErrorCode.RESOURCE_EXHAUSTED, message, { retryAfterSeconds });
  }
}

/** The error body of every REST endpoint; `error` is TF Serving's field, so its clients keep working. */
export const errorBodySchema = z.object({
  error: z.string(),
  code: z.enum(ErrorCode).meta({ example: ErrorCode.INVALID_ARGUMENT }),
  errorId: z.string().optional().describe('Present on INTERNAL only; the same id is in the server log'),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;
