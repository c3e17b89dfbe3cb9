export * from './generated';
export { PROTO_FILES, PROTO_PACKAGES, protoRoot, LOADER_OPTIONS, MAX_GRPC_MESSAGE_BYTES, type ProtoName } from './proto-files';
export { grpcOptions } from './grpc-options';
export { packAny, unpackAny } from './proto-codec';
export { loadGrpcObject, GRPC_CHANNEL_OPTIONS } from './grpc-client';
export { toGrpcError, fromGrpcError, ERROR_CODE_TRAILER, RETRY_AFTER_TRAILER, type GrpcErrorPayload } from './grpc-errors';
export { HealthRegistry } from './health-registry';
export type { DeepPartial } from './runtime';
