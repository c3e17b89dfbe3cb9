import protobuf from 'protobufjs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROTO_FILES, protoRoot, type ProtoName } from './proto-files';

const roots = new Map<string, protobuf.Root>();

function rootFor(protos: ProtoName[]): protobuf.Root {
  const key = [...protos].sort().join(',');
  let root = roots.get(key);
  if (!root) {
    const dir = protoRoot();
    root = new protobuf.Root();
    // google/protobuf/*.proto are protobufjs' bundled well-known types; everything else lives under the proto root.
    root.resolvePath = (_origin, target) => (existsSync(target) ? target : join(dir, target));
    root.loadSync(
      protos.map((p) => PROTO_FILES[p]),
      { keepCase: false },
    );
    roots.set(key, root);
  }
  return root;
}

/**
 * A message as a google.protobuf.Any. gRPC servers here work on plain objects
 * through proto-loader, which cannot pack an Any: its `value` must already be
 * the encoded bytes of the named type (TF Serving's GetModelMetadata answers
 * its signature_def this way).
 */
export function packAny(protos: ProtoName[], typeName: string, message: Record<string, unknown>): { typeUrl: string; value: Buffer } {
  const type = rootFor(protos).lookupType(typeName);
  const value = Buffer.from(type.encode(type.fromObject(message)).finish());
  const typeUrl = `type.googleapis.com/${typeName}`;
  // protobufjs bundles google.protobuf.Any with its snake_case field names and
  // proto-loader's keepCase does not rename them: `type_url` is what gets serialized.
  return Object.assign({ typeUrl, value }, { type_url: typeUrl });
}

