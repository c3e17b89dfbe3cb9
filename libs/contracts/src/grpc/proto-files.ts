import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Proto packages of Servable, by the file that declares them (relative to the proto root). */
export const PROTO_FILES = {
  health: 'grpc/health/v1/health.proto',
  tokenizer: 'servable/tokenizer/v1/tokenizer.proto',
  inference: 'servable/inference/v1/inference.proto',
  gateway: 'servable/gateway/v1/gateway.proto',
  // KServe / Triton Open Inference Protocol v2, under its standard package name.
  oip: 'inference/grpc_predict_v2.proto',
  // TF Serving's public gRPC API (tensorflow_serving/apis, Apache-2.0; see proto/THIRD_PARTY.md).
  tfservingPrediction: 'tensorflow_serving/apis/prediction_service.proto',
  tfservingModel: 'tensorflow_serving/apis/model_service.proto',
} as const;

export const PROTO_PACKAGES = {
  health: 'grpc.health.v1',
  tokenizer: 'servable.tokenizer.v1',
  inference: 'servable.inference.v1',
  gateway: 'servable.gateway.v1',
  oip: 'inference',
  tfservingPrediction: 'tensorflow.serving',
  tfservingModel: 'tensorflow.serving',
} as const;

/**
 * Every file above with its imports, compiled by buf (`npm run proto:gen`; proto-check keeps it in
 * step): protoc's FileDescriptorProtos, which gRPC reflection serves. protobufjs's own descriptors
 * (what proto-loader hands @grpc/reflection) name map entries `Parameters` instead of
 * `ParametersEntry`, declare no imports and merge files per package, and grpcurl and buf curl
 * (protobuf-go) refuse them.
 */
export const DESCRIPTOR_SET_FILE = 'descriptor-set.binpb';

export type ProtoName = keyof typeof PROTO_FILES;

/**
 * Where the .proto files are: beside a bundled app (copied there as build
 * assets), or in libs/contracts/proto when running from source (tests, tools).
 */
export function protoRoot(): string {
  const candidates = [process.env['SERVABLE_PROTO_ROOT'], join(__dirname, 'proto'), join(__dirname, '../../proto')];
  const found = candidates.find((dir): dir is string => !!dir && existsSync(join(dir, PROTO_FILES.health)));
  if (!found) throw new Error(`proto files not found; looked in ${candidates.filter(Boolean).join(', ')}`);
  return found;
}

/**
 * proto-loader options shared by every server and client, so both sides agree
 * on the JS shape of a message, and the shape the generated types describe
 * (libs/contracts/buf.gen.yaml): camelCase fields, int64 as a decimal string
 * (`forceLong=string`: a number would round past 2^53; int64ToNumber converts
 * with a range check), enums as their names, defaults filled in.
 */
export const LOADER_OPTIONS = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  arrays: true,
} as const;

/** gRPC message limits: a batch of 64 rows x 512 int32 ids is 128 KiB; leave room for large requests. */
export const MAX_GRPC_MESSAGE_BYTES = 32 * 1024 * 1024;
