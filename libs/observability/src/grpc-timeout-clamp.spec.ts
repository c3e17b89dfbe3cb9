import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clampGrpcServerTimeouts } from './grpc-timeout-clamp';

const DAY_MS = 24 * 3600 * 1000;
const method = {
  path: '/probe.Probe/Deadline',
  requestStream: false,
  responseStream: false,
  requestSerialize: (value: Buffer) => value,
  requestDeserialize: (bytes: Buffer) => bytes,
  responseSerialize: (value: Buffer) => value,
  responseDeserialize: (bytes: Buffer) => bytes,
};

describe('clampGrpcServerTimeouts', () => {
  let server: grpc.Server;
  let client: grpc.Client;
  beforeAll(async () => {
    clampGrpcServerTimeouts();
    clampGrpcServerTimeouts(); // twice is once
    server = new grpc.Server();
    // Answers with the deadline the server read, as milliseconds from now.
    server.register(
      method.path,
      (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const deadline = call.getDeadline();
        const at = deadline instanceof Date ? deadline.getTime() : deadline;
        callback(null, Buffer.from(String(at - Date.now())));
      },
      method.responseSerialize,
      method.requestDeserialize,
      'unary',
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  afterAll(() => {
    client?.close();
    server?.forceShutdown();
  });

  const call = (deadlineMs: number) =>
    new Promise<number>((resolve, reject) =>
      client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, Buffer.alloc(0), { deadline: Date.now() + deadlineMs }, (err, value) =>
        err ? reject(err) : resolve(Number(value?.toString())),
      ),
    );

  it('serves a call whose deadline is beyond what a timer holds (grpc-js alone fails it at once)', async () => {
    // grpc-js's client sends 30 days as "720H"; 2^31 ms is 24.9 days.
    const left = await call(30 * DAY_MS);
    expect(left).toBeGreaterThan(24.8 * DAY_MS);
    expect(left).toBeLessThanOrEqual(2 ** 31 - 1);
  });

  it('leaves shorter deadlines as sent', async () => {
    const left = await call(5_000);
    expect(left).toBeGreaterThan(4_000);
    expect(left).toBeLessThanOrEqual(5_000);
    expect(await call(20 * DAY_MS)).toBeGreaterThan(19.9 * DAY_MS);
  });

  it('still fails a call whose deadline passes', async () => {
    await expect(call(0)).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
  });
});
