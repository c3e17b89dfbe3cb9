import type { Server } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import type { GrpcOptions } from '@nestjs/microservices';

/**
 * Adds gRPC server reflection (grpc.reflection.v1 and v1alpha) for every
 * service the server loads, so `grpcurl -plaintext host:8500 list` and
 * `describe` work without the caller holding our .proto files.
 */
export function withReflection(options: GrpcOptions): GrpcOptions {
  return {
    ...options,
    options: {
      ...options.options,
      onLoadPackageDefinition: (definition: PackageDefinition, server: Pick<Server, 'addService'>) => new ReflectionService(definition).addToServer(server),
    },
  };
}
