/* eslint-disable @typescript-eslint/no-explicit-any -- reflection answers as plain objects */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOADER_OPTIONS, protoRoot } from '@servable/contracts/grpc';
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

/**
 * `buf curl`, a reflection client built on protobuf-go like grpcurl: it validates every descriptor
 * the server sends (map entries, imports, names) before it encodes a request from snake_case JSON.
 */
async function bufCurl(address: string, args: string[]): Promise<string> {
  const buf = join(dirname(require.resolve('@bufbuild/buf/package.json')), 'bin/buf');
  const { stdout } = await promisify(execFile)(buf, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', ...args.slice(0, -1), `http://${address}/${args[args.length - 1]}`], {
    timeout: 30_000,
  });
  return stdout;
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
    const dependencies = (files as any[]).flatMap((f) => f.dependency ?? []);
    expect(dependencies).toContain('tensorflow/core/framework/tensor.proto');
    for (const f of files as any[]) for (const dep of f.dependency ?? []) expect(names, `${f.name} needs ${dep}`).toContain(dep);
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
          // The descriptors carry the .proto's own field names, as protoc's do.
          { model_spec: { name: 'spam' }, metadata_field: ['signature_def'] },
          (err, value) => (err ? reject(err) : resolve(value)),
        ),
      );
      expect(answer.model_spec).toMatchObject({ name: 'spam', signature_name: 'serving_default' });
      // protobufjs reads a descriptor's map as its repeated entry messages; the bytes are the same.
      expect(answer.metadata).toEqual([{ key: 'signature_def', value: expect.objectContaining({ type_url: 'type.googleapis.com/tensorflow.serving.SignatureDefMap' }) }]);
    } finally {
      client.close();
    }
  });

  it('serves descriptors that grpcurl-style clients accept: every service is callable from snake_case JSON alone', async () => {
    const services = (await bufCurl(testGateway.grpcUrl, ['--list-services', ''])).trim().split('\n');
    expect(services).toEqual(expect.arrayContaining(['tensorflow.serving.PredictionService', 'inference.GRPCInferenceService', 'servable.gateway.v1.GatewayService']));
    // A map field (OIP parameters) and an Any holding another file's message (SignatureDefMap) both decode.
    const oip = JSON.parse(await bufCurl(testGateway.grpcUrl, ['-d', '{"name": "spam"}', 'inference.GRPCInferenceService/ModelMetadata']));
    expect(oip).toMatchObject({ name: 'spam', inputs: expect.arrayContaining([expect.objectContaining({ name: 'text', datatype: 'BYTES' })]) });
    const metadata = JSON.parse(
      await bufCurl(testGateway.grpcUrl, ['-d', '{"model_spec": {"name": "spam"}, "metadata_field": ["signature_def"]}', 'tensorflow.serving.PredictionService/GetModelMetadata']),
    );
    expect(metadata.metadata.signature_def['@type']).toBe('type.googleapis.com/tensorflow.serving.SignatureDefMap');
    expect(Object.keys(metadata.metadata.signature_def.signatureDef)).toContain('serving_default');
    const status = JSON.parse(await bufCurl(testGateway.grpcUrl, ['-d', '{"model_spec": {"name": "spam", "version": 1}}', 'tensorflow.serving.ModelService/GetModelStatus']));
    expect(status.model_version_status).toEqual([expect.objectContaining({ version: '1', state: 'AVAILABLE' })]);
  });

  it('answers grpc.health.v1 for every API service it lists, as a probe keyed by service name asks', async () => {
    const services = (await bufCurl(testGateway.grpcUrl, ['--list-services', ''])).trim().split('\n');
    const apis = services.filter((name) => !name.startsWith('grpc.'));
    expect(apis).toHaveLength(4);
    const definition = protoLoader.loadSync('grpc/health/v1/health.proto', { ...LOADER_OPTIONS, includeDirs: [protoRoot()] });
    const Health = (grpc.loadPackageDefinition(definition) as any).grpc.health.v1.Health;
    const client = new Health(testGateway.grpcUrl, grpc.credentials.createInsecure());
    try {
      for (const service of apis) {
        const reply = await new Promise<any>((resolve, reject) => client.Check({ service }, (err: Error | null, value: unknown) => (err ? reject(err) : resolve(value))));
        expect(reply.status, service).toBe('SERVING');
      }
    } finally {
      client.close();
    }
  });
});
