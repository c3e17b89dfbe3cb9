/* eslint-disable @typescript-eslint/no-explicit-any -- reflection answers as plain objects */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../testing/test-gateway';

process.env['LOG_LEVEL'] ??= 'warn';

/** What grpcurl does: a ServerReflectionInfo stream, one request, one answer. */
function reflect(address: string, request: Record<string, unknown>): Promise<any> {
  const protoDir = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto');
  const definition = protoLoader.loadSync('grpc/reflection/v1/reflection.proto', { keepCase: true, includeDirs: [protoDir], longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(definition) as any;
  const client = new pkg.grpc.reflection.v1.ServerReflection(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    const call = client.ServerReflectionInfo();
    call.on('data', (reply: unknown) => {
      resolve(reply);
      call.end();
      client.close();
    });
    call.on('error', reject);
    call.write(request);
  });
}

describe('gRPC server reflection on the gateway port', () => {
  let testGateway: TestGateway;

  beforeAll(async () => {
    testGateway = await startTestGateway({ SERVABLE_AUTH: 'off' });
  }, 60_000);

  afterAll(async () => {
    await testGateway?.close();
  });

  it('lists every service, as `grpcurl -plaintext host:port list` shows them', async () => {
    const reply = await reflect(testGateway.grpcUrl, { list_services: '' });
    const names = reply.list_services_response.service.map((s: { name: string }) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'tensorflow.serving.PredictionService',
        'tensorflow.serving.ModelService',
        'inference.GRPCInferenceService',
        'servable.gateway.v1.GatewayService',
        'grpc.health.v1.Health',
      ]),
    );
  });

  it('describes a service from its file descriptor, as `grpcurl describe` needs', async () => {
    const reply = await reflect(testGateway.grpcUrl, { file_containing_symbol: 'tensorflow.serving.PredictionService' });
    const files = reply.file_descriptor_response.file_descriptor_proto.map((bytes: Buffer) => descriptor.FileDescriptorProto.decode(bytes) as any);
    const service = files.flatMap((f: any) => f.service ?? []).find((s: any) => s.name === 'PredictionService');
    expect(service.method.map((m: any) => m.name)).toEqual(expect.arrayContaining(['Predict', 'Classify', 'GetModelMetadata']));
    // The answer carries the dependencies too, so a client can decode TensorProto without our files.
    const messages = files.flatMap((f: any) => (f.messageType ?? []).map((m: any) => `${f.package}.${m.name}`));
    expect(messages).toEqual(expect.arrayContaining(['tensorflow.TensorProto', 'tensorflow.serving.PredictRequest']));
  });

  it('gives descriptors complete enough to call a method with no .proto file, as grpcurl does', async () => {
    const reply = await reflect(testGateway.grpcUrl, { file_containing_symbol: 'tensorflow.serving.PredictionService' });
    const files = reply.file_descriptor_response.file_descriptor_proto.map((bytes: Buffer) => descriptor.FileDescriptorProto.decode(bytes));
    // Every dependency a file names must be in the answer: grpcurl cannot resolve types otherwise.
    const names = new Set(files.map((f: any) => f.name));
    const google = (name: string) => name.startsWith('google/protobuf/');
    for (const f of files as any[]) for (const dep of f.dependency ?? []) if (!google(dep)) expect(names, `${f.name} needs ${dep}`).toContain(dep);
    const root = (protobuf.Root as any).fromDescriptor({ file: files }) as protobuf.Root;
    const requestType = root.lookupType('tensorflow.serving.GetModelMetadataRequest');
    const responseType = root.lookupType('tensorflow.serving.GetModelMetadataResponse');
    const client = new grpc.Client(testGateway.grpcUrl, grpc.credentials.createInsecure());
    try {
      const answer = await new Promise<any>((resolve, reject) =>
        client.makeUnaryRequest(
          '/tensorflow.serving.PredictionService/GetModelMetadata',
          (m: object) => Buffer.from(requestType.encode(requestType.fromObject(m)).finish()),
          (b: Buffer) => responseType.toObject(responseType.decode(b), { longs: Number }),
          { modelSpec: { name: 'spam' }, metadataField: ['signature_def'] },
          (err, value) => (err ? reject(err) : resolve(value)),
        ),
      );
      expect(answer.modelSpec).toMatchObject({ name: 'spam', signatureName: 'serving_default' });
      // protobufjs reads a descriptor's map as its repeated entry messages; the bytes are the same.
      expect(answer.metadata).toEqual([{ key: 'signature_def', value: expect.objectContaining({ type_url: 'type.googleapis.com/tensorflow.serving.SignatureDefMap' }) }]);
    } finally {
      client.close();
    }
  });
});
