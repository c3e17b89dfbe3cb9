import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ErrorCode, GRPC_STATUS, HTTP_STATUS, errorCodeFromGrpcStatus } from './error-code';
import { fromGrpcError, toGrpcError } from './grpc/grpc-errors';
import { ServableError } from './servable-error';

describe('error taxonomy', () => {
  it('maps every code to the HTTP status of DESIGN.md', () => {
    expect(HTTP_STATUS).toMatchObject({
      INVALID_ARGUMENT: 400,
      UNAUTHENTICATED: 401,
      PERMISSION_DENIED: 403,
      NOT_FOUND: 404,
      FAILED_PRECONDITION: 409,
      RESOURCE_EXHAUSTED: 429,
      UNAVAILABLE: 503,
      DEADLINE_EXCEEDED: 504,
      INTERNAL: 500,
    });
  });

  it('uses the same numbers as grpc-js for every gRPC status', () => {
    for (const code of Object.values(ErrorCode)) {
      expect(GRPC_STATUS[code], code).toBe(status[code as keyof typeof status]);
    }
  });

  it('round-trips every code through a gRPC error', () => {
    for (const code of Object.values(ErrorCode)) {
      const payload = toGrpcError(new ServableError(code, `boom ${code}`, { retryAfterSeconds: 2 }));
      const back = fromGrpcError({ ...payload, details: payload.message });
      expect(back.code).toBe(code);
      expect(back.message).toBe(`boom ${code}`);
      expect(back.retryAfterSeconds).toBe(2);
    }
  });

  it('treats statuses outside the taxonomy as INTERNAL', () => {
    expect(errorCodeFromGrpcStatus(status.UNKNOWN)).toBe(ErrorCode.INTERNAL);
    expect(errorCodeFromGrpcStatus(status.DATA_LOSS)).toBe(ErrorCode.INTERNAL);
    expect(errorCodeFromGrpcStatus(status.UNAVAILABLE)).toBe(ErrorCode.UNAVAILABLE);
  });
});
