// One namespace per proto package, named as before ts-proto generated them (servableTokenizerV1, tensorflowServing...).
export * as googleProtobuf from './generated/index.google.protobuf';
export * as grpcHealthV1 from './generated/index.grpc.health.v1';
export * as inference from './generated/index.inference';
export * as servableCommonV1 from './generated/index.servable.common.v1';
export * as servableGatewayV1 from './generated/index.servable.gateway.v1';
export * as servableInferenceV1 from './generated/index.servable.inference.v1';
export * as servableTokenizerV1 from './generated/index.servable.tokenizer.v1';
export * as tensorflow from './generated/index.tensorflow';
export * as tensorflowError from './generated/index.tensorflow.error';
export * as tensorflowServing from './generated/index.tensorflow.serving';
export { DESCRIPTOR_SET_FILE, LOADER_OPTIONS, MAX_GRPC_MESSAGE_BYTES, protoRoot, type ProtoName } from './proto-files';
export { grpcOptions } from './grpc-options';
export { packAny } from './proto-codec';
export { int64Field, int64ToNumber } from './int64';
export { loadGrpcObject, GRPC_CHANNEL_OPTIONS } from './grpc-client';
export { toGrpcError, fromGrpcError, ERROR_CODE_TRAILER, RETRY_AFTER_TRAILER, type GrpcErrorPayload } from './grpc-errors';
export { HealthRegistry } from './health-registry';
