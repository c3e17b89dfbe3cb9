import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import type { GrpcOptions } from '@nestjs/microservices';
import { FileDescriptorProto, FileDescriptorSet } from 'protobufjs/ext/descriptor';
import { DESCRIPTOR_SET_FILE, protoRoot } from '@servable/contracts/grpc';

/** The services a proto-loader definition holds (its other entries are messages and enums, which carry `format`). */
function servicesOf(definition: PackageDefinition): string[] {
  return Object.entries(definition)
    .filter(([, entry]) => !('format' in entry))
    .map(([name]) => name);
}

/**
 * Reflection over buf's compiled descriptors of our .proto files, listing the services the server
 * loaded. @grpc/reflection indexes whatever `fileDescriptorProtos` its definition carries, so it
 * is handed the compiled ones (DESCRIPTOR_SET_FILE says why not proto-loader's).
 */
export function reflectionService(definition: PackageDefinition, root = protoRoot()): ReflectionService {
  const set = FileDescriptorSet.decode(readFileSync(join(root, DESCRIPTOR_SET_FILE))) as unknown as { file: object[] };
  const fileDescriptorProtos = set.file.map((file) => Buffer.from(FileDescriptorProto.encode(file).finish()));
  const compiled = { [DESCRIPTOR_SET_FILE]: { format: 'descriptor-set', fileDescriptorProtos } } as unknown as PackageDefinition;
  return new ReflectionService(compiled, { services: servicesOf(definition) });
}

/**
 * Adds gRPC server reflection (grpc.reflection.v1 and v1alpha) for every
 * service the server loads, so `grpcurl -plaintext host:8500 list`, `describe`
 * and calls work without the caller holding our .proto files.
 */
export function withReflection(options: GrpcOptions): GrpcOptions {
  return {
    ...options,
    options: {
      ...options.options,
      onLoadPackageDefinition: (definition: PackageDefinition, server: Pick<Server, 'addService'>) => reflectionService(definition).addToServer(server),
    },
  };
}
