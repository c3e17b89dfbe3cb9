import type { ServiceError } from '@grpc/grpc-js';

/** The error a gRPC call fails with; throws if the call succeeds instead. */
export async function grpcError(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}
