import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpcFrame, grpcMessage, grpcRequest } from './_grpc-frame.mjs';
import { checkGrpcOk, lengthQuantiles } from './_load.mjs';
import { grpc, grpcDefinition, grpcPackage } from './_support.mjs';

const SERVICE = 'servable.inference.v1.InferenceService';
const definition = grpcDefinition(['servable/inference/v1/inference.proto']);
const row = Int32Array.from([101, 7, 4242, 102]);
const predict = {
  modelSpec: { name: 'spam', version: 2 },
  inputs: { input_ids: { ragged: { dtype: 'DATA_TYPE_INT32', values: Buffer.from(row.buffer), rowLengths: [row.length] } } },
};

describe('gRPC frames for h2load', () => {
  it('prefixes the message with an uncompressed flag and its big-endian length', () => {
    const frame = grpcFrame(Buffer.from([1, 2, 3]));
    expect([...frame]).toEqual([0, 0, 0, 0, 3, 1, 2, 3]);
    const long = grpcFrame(Buffer.alloc(70_000, 9));
    expect(long.readUInt32BE(1)).toBe(70_000);
    expect(grpcMessage(long)).toEqual(Buffer.alloc(70_000, 9));
  });

  it('refuses what is not exactly one uncompressed frame', () => {
    const frame = grpcFrame(Buffer.from([1, 2, 3]));
    expect(() => grpcMessage(frame.subarray(0, 4))).toThrow(/5-byte prefix/);
    expect(() => grpcMessage(Buffer.concat([frame, Buffer.from([0])]))).toThrow(/frame says 3 bytes/);
    expect(() => grpcMessage(Buffer.from([1, 0, 0, 0, 0]))).toThrow(/compressed/);
  });

  it('encodes a Predict request the service decodes back to the same request', () => {
    const { path, frame } = grpcRequest(definition, SERVICE, 'Predict', predict);
    expect(path).toBe('/servable.inference.v1.InferenceService/Predict');
    const decoded = definition[SERVICE].Predict.requestDeserialize(grpcMessage(frame));
    // int64 travels as a decimal string (LOADER_OPTIONS longs: String), so nothing past 2^53 is rounded.
    expect(decoded.modelSpec).toMatchObject({ name: 'spam', version: '2' });
    const ragged = decoded.inputs.input_ids.ragged;
    expect(ragged.rowLengths).toEqual([4]);
    expect(new Int32Array(new Uint8Array(ragged.values).buffer)).toEqual(row);
  });

  it('names a method the protos do not have', () => {
    expect(() => grpcRequest(definition, SERVICE, 'Nope', {})).toThrow(/not in the loaded protos/);
  });
});

describe('checkGrpcOk: the gRPC status h2load cannot see', () => {
  let server;
  let address;
  const seen = [];
  beforeAll(async () => {
    const pkg = grpcPackage(['servable/inference/v1/inference.proto']);
    server = new grpc.Server();
    server.addService(pkg.servable.inference.v1.InferenceService.service, {
      predict: (call, callback) => {
        seen.push(call.request);
        if (call.request.modelSpec.name === 'spam') callback(null, { modelSpec: call.request.modelSpec });
        else callback({ code: grpc.status.NOT_FOUND, details: `model "${call.request.modelSpec.name}" is not in the repository` });
      },
    });
    const port = await new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    address = `127.0.0.1:${port}`;
  });
  afterAll(() => new Promise((resolve) => server.tryShutdown(resolve)));

  it('passes when the very bytes of the frame answer OK', async () => {
    const { path, frame } = grpcRequest(definition, SERVICE, 'Predict', predict);
    await checkGrpcOk(address, path, [frame]);
    expect(seen.at(-1).inputs.input_ids.ragged.rowLengths).toEqual([4]);
  });

  it('fails with the status name when the service refuses the request', async () => {
    const { path, frame } = grpcRequest(definition, SERVICE, 'Predict', { ...predict, modelSpec: { name: 'nope', version: 1 } });
    await expect(checkGrpcOk(address, path, [frame])).rejects.toThrow(/answered NOT_FOUND: model "nope"/);
  });
});

describe('lengthQuantiles', () => {
  it('puts the median first and spreads the rest over the distribution', () => {
    const items = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(lengthQuantiles(items, (x) => x, 8)).toEqual([51, 7, 19, 32, 44, 69, 82, 94]);
    expect(lengthQuantiles(items, (x) => x, 1)).toEqual([51]);
  });
});
