import { status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, bytesToFloat32 } from '@servable/contracts';
import type { servableInferenceV1 as v1 } from '@servable/contracts/grpc';
import type { RunningInference } from '../inference-server';
import { FAKE_WORKER, fakeManifest, fakeSource, inferenceClient, raggedRequest, startForTest, type InferenceClient } from '../testing/inference-fixtures';

// PredictStream over real gRPC, with the fake worker (each row's output is [sum of ids, padded length]).

/** Collects a stream's results until it ends, with how it ended. */
function collect(stream: ClientDuplexStream<unknown, unknown>) {
  const results: v1.PredictStreamResult[] = [];
  const ended = new Promise<ServiceError | undefined>((resolve) => {
    stream.on('data', (message: v1.PredictStreamResponse) => results.push(...message.results));
    stream.on('error', (err: ServiceError) => resolve(err));
    stream.on('status', (s: { code: number }) => s.code === status.OK && resolve(undefined));
  });
  return { results, ended };
}

describe('PredictStream over gRPC (fake worker)', () => {
  let server: RunningInference;
  let client: InferenceClient;

  beforeAll(async () => {
    server = await startForTest(fakeSource([fakeManifest('spam', 1)]), { MODEL_VERSION_POLICY: 'specific:spam=1' }, FAKE_WORKER);
    client = inferenceClient(server.grpcUrl);
    await server.startupLoaded;
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  it('answers every item on its own, with the code a unary Predict would give, and ends once the caller has', async () => {
    const stream = client.stream();
    const { results, ended } = collect(stream);
    stream.write({
      items: [
        { id: 1, request: raggedRequest('spam', 1, [[1, 2, 3], [4]]), timeoutMs: 5_000, requestId: 'req-1' },
        { id: 2, request: raggedRequest('spam', 1, [[1, 100]]) },
        { id: 3, request: raggedRequest('spam', 9, [[1]]) },
        { id: 4 },
      ],
    });
    stream.write({ items: [{ id: 5, request: raggedRequest('spam', 0, [[7]]) }] });
    await expect.poll(() => results.length).toBe(5);
    stream.end();
    await expect(ended).resolves.toBeUndefined();
    const byId = new Map(results.map((r) => [r.id, r]));
    const ok = byId.get(1)!;
    expect(ok.code).toBe(status.OK);
    expect(ok.response?.modelSpec).toEqual({ name: 'spam', version: '1' });
    const out = [...bytesToFloat32(ok.response!.outputs['probabilities'].data)];
    expect([out[0], out[2]]).toEqual([6, 4]);
    expect(byId.get(2)).toMatchObject({ code: status.INVALID_ARGUMENT, errorCode: ErrorCode.INVALID_ARGUMENT });
    expect(byId.get(2)?.message).toMatch(/input_ids.*\[0, 100\).*got 100/);
    expect(byId.get(3)).toMatchObject({ code: status.NOT_FOUND, errorCode: ErrorCode.NOT_FOUND });
    expect(byId.get(4)).toMatchObject({ code: status.INVALID_ARGUMENT, message: 'PredictStream item has no request' });
    expect(byId.get(5)?.response?.modelSpec?.version).toBe('1');
    // The same code a unary Predict answers with.
    const unary = await client.call('predict', raggedRequest('spam', 9, [[1]])).catch((e: ServiceError) => e);
    expect((unary as ServiceError).code).toBe(status.NOT_FOUND);
  });

  it('drops the items the caller cancels: their rows leave the queue and they are not answered', async () => {
    const stream = client.stream();
    const { results, ended } = collect(stream);
    // Slow batches (first id 99) hold both workers; the rows after them wait in the queue.
    stream.write({ items: [{ id: 1, request: raggedRequest('spam', 1, [[99]]) }] });
    await new Promise((r) => setTimeout(r, 20));
    stream.write({ items: [{ id: 5, request: raggedRequest('spam', 1, [[99]]) }] });
    await new Promise((r) => setTimeout(r, 50));
    stream.write({ items: [2, 3, 4].map((id) => ({ id, request: raggedRequest('spam', 1, [[id]]) })) });
    await new Promise((r) => setTimeout(r, 20));
    stream.write({ items: [], cancelled: [2, 4, 42] });
    await expect.poll(() => results.length).toBe(3);
    stream.end();
    await expect(ended).resolves.toBeUndefined();
    expect(results.map((r) => [r.id, r.code]).sort()).toEqual([
      [1, status.OK],
      [3, status.OK],
      [5, status.OK],
    ]);
    // Item 3's rows ran alone: the cancelled items' rows had left the queue it was in.
    expect(results.find((r) => r.id === 3)?.response?.timing?.batchSize).toBe(1);
  });

  it('fails the stream with INVALID_ARGUMENT when an id is sent again while it is in flight', async () => {
    const stream = client.stream();
    const { ended } = collect(stream);
    const item = { id: 7, request: raggedRequest('spam', 1, [[1]]) };
    stream.write({ items: [item, item] });
    const err = await ended;
    expect(err?.code).toBe(status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(/item id 7 is already in flight/);
  });

  it('ends at once when the caller ends with nothing in flight', async () => {
    const stream = client.stream();
    const { results, ended } = collect(stream);
    stream.end();
    await expect(ended).resolves.toBeUndefined();
    expect(results).toEqual([]);
  });
});
