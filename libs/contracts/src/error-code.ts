/**
 * The one error taxonomy of Servable (see shared DESIGN.md). Every service
 * raises these codes; each transport maps them with the tables below.
 */
export enum ErrorCode {
  INVALID_ARGUMENT = 'INVALID_ARGUMENT',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  PERMISSION_DENIED = 'PERMISSION_DENIED',
  NOT_FOUND = 'NOT_FOUND',
  FAILED_PRECONDITION = 'FAILED_PRECONDITION',
  RESOURCE_EXHAUSTED = 'RESOURCE_EXHAUSTED',
  UNAVAILABLE = 'UNAVAILABLE',
  DEADLINE_EXCEEDED = 'DEADLINE_EXCEEDED',
  /** The caller went away; nobody reads the answer, but logs and metrics still count it. */
  CANCELLED = 'CANCELLED',
  INTERNAL = 'INTERNAL',
}

export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  [ErrorCode.INVALID_ARGUMENT]: 400,
  [ErrorCode.UNAUTHENTICATED]: 401,
  [ErrorCode.PERMISSION_DENIED]: 403,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.FAILED_PRECONDITION]: 409,
  [ErrorCode.RESOURCE_EXHAUSTED]: 429,
  // nginx's "client closed request": no standard code exists for it.
  [ErrorCode.CANCELLED]: 499,
  [ErrorCode.INTERNAL]: 500,
  [ErrorCode.UNAVAILABLE]: 503,
  [ErrorCode.DEADLINE_EXCEEDED]: 504,
};

/** Numeric gRPC status codes (grpc/status.h); kept here so contracts need no gRPC runtime. */
export const GRPC_STATUS: Readonly<Record<ErrorCode, number>> = {
  [ErrorCode.CANCELLED]: 1,
  [ErrorCode.INVALID_ARGUMENT]: 3,
  [ErrorCode.DEADLINE_EXCEEDED]: 4,
  [ErrorCode.NOT_FOUND]: 5,
  [ErrorCode.PERMISSION_DENIED]: 7,
  [ErrorCode.RESOURCE_EXHAUSTED]: 8,
  [ErrorCode.FAILED_PRECONDITION]: 9,
  [ErrorCode.INTERNAL]: 13,
  [ErrorCode.UNAVAILABLE]: 14,
  [ErrorCode.UNAUTHENTICATED]: 16,
};

const FROM_GRPC = new Map<number, ErrorCode>(
  Object.entries(GRPC_STATUS).map(([code, status]) => [status, code as ErrorCode]),
);

/** Maps a gRPC status back to the taxonomy; codes outside it (UNKNOWN, DATA_LOSS, ...) are INTERNAL. */
export function errorCodeFromGrpcStatus(status: number): ErrorCode {
  // OUT_OF_RANGE (11) is an argument error in all but name.
  if (status === 11) return ErrorCode.INVALID_ARGUMENT;
  return FROM_GRPC.get(status) ?? ErrorCode.INTERNAL;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && value in HTTP_STATUS;
}
