import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leanGrpcClient } from './_grpc-lean.mjs';
import { HpackDecoder, hpackEncode } from './_hpack.mjs';
import { grpc, grpcPackage } from './_support.mjs';

const SERVICE = 'servable.inference.v1.InferenceService';

describe('HPACK', () => {
  it('decodes RFC 7541 C.4 (Huffman strings, the dynamic table carried across blocks)', () => {
    const decoder = new HpackDecoder();
    const block = (hex) => decoder.decode(Buffer.from(hex, 'hex'));
    expect(block('828684418cf1e3c2e5f23a6ba0ab90f4ff')).toEqual([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
    ]);
    expect(block('828684be5886a8eb10649cbf')).toContainEqual(['cache-control', 'no-cache']);
    expect(block('828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf')).toEqual([
      [':method', 'GET'],
      [':scheme', 'https'],
      [':path', '/index.html'],
      [':authority', 'www.example.com'],
      ['custom-key', 'custom-value'],
    ]);
  });

  it('encodes what it decodes, including long values', () => {
    const headers = [
      [':method', 'POST'],
      [':path', `/${SERVICE}/Predict`],
      ['content-type', 'application/grpc'],
      ['te', 'trailers'],
      ['x-long', 'y'.repeat(300)],
    ];
    expect(new HpackDecoder().decode(hpackEncode(headers))).toEqual(headers);
  });

  it('refuses an index that is in neither table', () => {
    expect(() => new HpackDecoder().decode(Buffer.from([0xff, 0x00]))).toThrow(/no table entry/);
  });
});

describe('lean gRPC client against a grpc-js server', () => {
  let server;
  let client;
  const seen = [];

  beforeAll(async () => {
    const pkg = grpcPackage(['servable/inference/v1/inference.proto']);
    server = new grpc.Server();
    server.addService(pkg.servable.inference.v1.InferenceService.service, {
      predict: (call, callback) => {
        const { name, version } = call.request.modelSpec;
        seen.push(version);
        if (version === 9) return callback({ code: grpc.status.NOT_FOUND, details: `model "${name}" has no version 9 (é)` });
        callback(null, { modelSpec: { name, version }, backend: version === 7 ? 'x'.repeat(100_000) : 'wasm', timing: { batchSize: 3, queueUs: 12 } });
      },
    });
    const port = await new Promise((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    client = leanGrpcClient(`127.0.0.1:${port}`, ['servable/inference/v1/inference.proto']);
  });

  afterAll(() => {
    client?.close();
    server?.forceShutdown();
  });

  const predict = (version) => client.prepare(SERVICE, 'predict', { modelSpec: { name: 'spam', version }, inputs: {} });

  it('sends a request the server decodes and returns the decoded reply', async () => {
    const reply = await client.call(predict(2));
    expect(reply.modelSpec).toEqual({ name: 'spam', version: 2 });
    expect(reply.backend).toBe('wasm');
    expect(reply.timing).toMatchObject({ batchSize: 3, queueUs: 12 });
  });

  it("rejects with the server's status code and message", async () => {
    await expect(client.call(predict(9))).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: 'model "spam" has no version 9 (é)' });
  });

  it('reassembles a reply spread over many DATA frames', async () => {
    expect((await client.call(predict(7))).backend).toHaveLength(100_000);
  });

  it('runs many calls at once on one connection, each answered once', async () => {
    const before = seen.length;
    const results = await Promise.allSettled(Array.from({ length: 1000 }, (_, i) => client.call(predict(i % 10 === 9 ? 9 : 2))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(900);
    expect(results.filter((r) => r.status === 'rejected' && r.reason.code === grpc.status.NOT_FOUND)).toHaveLength(100);
    expect(seen.length - before).toBe(1000);
  });
});
