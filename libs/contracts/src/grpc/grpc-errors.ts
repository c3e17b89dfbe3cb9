import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { ErrorCode, GRPC_STATUS, errorCodeFromGrpcStatus, isErrorCode } from '../error-code';
import { ServableError } from '../servable-error';

/** Trailer that carries the exact taxonomy code next to the gRPC status. */
export const ERROR_CODE_TRAILER = 'x-servable-error-code';
export const RETRY_AFTER_TRAILER = 'retry-after';

export interface GrpcErrorPayload {
  code: number;
  message: string;
  details: string;
  metadata: Metadata;
}

/** The object a gRPC handler fails with (Nest passes it to grpc-js as the call's status). */
export function toGrpcError(error: ServableError): GrpcErrorPayload {
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_TRAILER, error.code);
  if (error.retryAfterSeconds !== undefined) metadata.set(RETRY_AFTER_TRAILER, String(error.retryAfterSeconds));
  return { code: GRPC_STATUS[error.code], message: error.message, details: error.message, metadata };
}

/** Turns an error from a gRPC client call back into the taxonomy. */
export function fromGrpcError(error: unknown): ServableError {
  if (error instanceof ServableError) return error;
  const e = error as Partial<ServiceError>;
  if (typeof e?.code !== 'number') {
    return new ServableError(ErrorCode.INTERNAL, (error as Error)?.message ?? String(error), { cause: error });
  }
  const trailer = e.metadata?.get(ERROR_CODE_TRAILER)?.[0];
  const code = isErrorCode(trailer) ? trailer : errorCodeFromGrpcStatus(e.code);
  const retryAfter = Number(e.metadata?.get(RETRY_AFTER_TRAILER)?.[0]);
  return new ServableError(code, e.details || e.message || code, {
    cause: error,
    retryAfterSeconds: Number.isFinite(retryAfter) ? retryAfter : undefined,
  });
}
