import { Transport, type GrpcOptions } from '@nestjs/microservices';
import { LOADER_OPTIONS, MAX_GRPC_MESSAGE_BYTES, PROTO_FILES, PROTO_PACKAGES, protoRoot, type ProtoName } from './proto-files';

/** Nest gRPC options (server or ClientsModule) for the given proto packages. */
export function grpcOptions(url: string, protos: ProtoName[], channelOptions: Record<string, number | string> = {}): GrpcOptions {
  const root = protoRoot();
  return {
    transport: Transport.GRPC,
    options: {
      url,
      // Two files may share a package (TF Serving's PredictionService and ModelService); Nest must see it once.
      package: [...new Set(protos.map((p) => PROTO_PACKAGES[p]))],
      protoPath: protos.map((p) => PROTO_FILES[p]),
      loader: { ...LOADER_OPTIONS, includeDirs: [root] },
      maxReceiveMessageLength: MAX_GRPC_MESSAGE_BYTES,
      maxSendMessageLength: MAX_GRPC_MESSAGE_BYTES,
      // No channelz service is registered, so its per-call accounting on the server would be pure cost.
      channelOptions: { 'grpc.enable_channelz': 0, ...channelOptions },
    },
  };
}
