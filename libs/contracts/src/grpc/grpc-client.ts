import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { LOADER_OPTIONS, MAX_GRPC_MESSAGE_BYTES, PROTO_FILES, protoRoot, type ProtoName } from './proto-files';

/**
 * Plain grpc-js service constructors for the given protos, the way any client
 * outside Nest (tests, benchmarks, other languages' generated stubs) sees them.
 */
export function loadGrpcObject(protos: ProtoName[]): grpc.GrpcObject {
  const root = protoRoot();
  const definition = protoLoader.loadSync(
    protos.map((p) => PROTO_FILES[p]),
    { ...LOADER_OPTIONS, includeDirs: [root] },
  );
  return grpc.loadPackageDefinition(definition);
}

export const GRPC_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': MAX_GRPC_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_GRPC_MESSAGE_BYTES,
  // Round-robin over every address a (headless) service name resolves to:
  // one HTTP/2 connection would otherwise pin all traffic to one replica.
  'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
  // Channelz is grpc-js's introspection service; nothing here serves it, and its per-call bookkeeping is not free.
  'grpc.enable_channelz': 0,
};
