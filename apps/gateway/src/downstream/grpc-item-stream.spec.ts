import * as grpc from '@grpc/grpc-js';
import { ErrorCode } from '@servable/contracts';
import { ERROR_CODE_TRAILER, RETRY_AFTER_TRAILER, fromGrpcError, loadGrpcObject, type servableInferenceV1 as v1 } from '@servable/contracts/grpc';
import { RequestCancellation } from '@servable/observability';
import { afterEach, describe, expect, it } from 'vitest';
import { GrpcItemStream, messageReader, type ItemStreamMethod } from './grpc-item-stream';
import { GrpcUnaryChannel, frameOf } from './grpc-unary-channel';

const root = loadGrpcObject(['inference']);
const Inference = (((root.servable as grpc.GrpcObject).inference as grpc.GrpcObject).v1 as grpc.GrpcObject).InferenceService as grpc.ServiceClientConstructor;
const defs = Inference.service;
const METHOD: ItemStreamMethod = {
  path: defs.PredictStream.path,
  requestSerialize: defs.PredictStream.requestSerialize,
  responseDeserialize: defs.PredictStream.responseDeserialize,
  unary: { path: defs.Predict.path, requestSerialize: defs.Predict.requestSerialize, responseDeserialize: defs.Predict.responseDeserialize },
};

interface Seen {
  messages: number[];
  /** The ids each message cancelled. */
  cancelled: number[][];
  items: v1.PredictStreamItem[];
  unary: v1.PredictRequest[];
  streamsEnded: number;
}

/**
 * A grpc-js inference whose answer depends on the model name asked for: `ok` answers at once,
 * `slow` after 300 ms, `hang` never, `full` fails as a full queue does, with the taxonomy's code
 * and retry-after. `streamed: false` serves Predict alone, as a replica from before PredictStream.
 */
async function inferenceServer(streamed = true, port = 0): Promise<{ server: grpc.Server; port: number; seen: Seen }> {
  const seen: Seen = { messages: [], cancelled: [], items: [], unary: [], streamsEnded: 0 };
  const reply = (request: v1.PredictRequest): v1.PredictResponse => ({
    modelSpec: { name: request.modelSpec?.name ?? '', version: String(request.modelSpec?.version ?? 0) },
    outputs: {},
    backend: 'test',
  });
  const server = new grpc.Server();
  const handlers: grpc.UntypedServiceImplementation = {
    predict(call: grpc.ServerUnaryCall<v1.PredictRequest, v1.PredictResponse>, callback: grpc.sendUnaryData<v1.PredictResponse>) {
      seen.unary.push(call.request);
      callback(null, reply(call.request));
    },
  };
  if (streamed) {
    handlers.predictStream = (call: grpc.ServerDuplexStream<v1.PredictStreamRequest, v1.PredictStreamResponse>) => {
      // As inference does: when the caller ends its side, the stream ends once its items are answered.
      let open = 0;
      let ended = false;
      const write = (results: v1.PredictStreamResult[]) => {
        open--;
        call.write({ results });
        if (ended && open === 0) call.end();
      };
      call.on('data', (message: v1.PredictStreamRequest) => {
        seen.messages.push(message.items.length);
        if (message.cancelled.length > 0) seen.cancelled.push(message.cancelled);
        for (const item of message.items) {
          seen.items.push(item);
          open++;
          const name = item.request?.modelSpec?.name;
          if (name === 'hang') continue;
          if (name === 'full') {
            write([{ id: item.id, code: grpc.status.UNAVAILABLE, message: 'queue of "spam" v2 is full', errorCode: ErrorCode.RESOURCE_EXHAUSTED, retryAfterSeconds: 7 }]);
            continue;
          }
          const answer = () => write([{ id: item.id, response: reply(item.request!), code: 0, message: '', errorCode: '', retryAfterSeconds: 0 }]);
          if (name === 'slow') setTimeout(answer, 300);
          else answer();
        }
      });
      call.on('end', () => {
        seen.streamsEnded++;
        ended = true;
        if (open === 0) call.end();
      });
      call.on('error', () => undefined);
    };
  }
  server.addService(defs, handlers);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, port: bound, seen };
}

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

function streamTo(port: number): GrpcItemStream {
  const channel = new GrpcUnaryChannel(`127.0.0.1:${port}`, { maxMessageBytes: 4 * 1024 * 1024, keepaliveMs: 30_000, keepaliveTimeoutMs: 20_000 });
  const stream = new GrpcItemStream(channel, METHOD, 4 * 1024 * 1024);
  cleanup.push(() => {
    stream.close();
    channel.close();
  });
  return stream;
}

const predict = (stream: GrpcItemStream, name: string, deadlineMs = 5_000, metadata: Record<string, string> = {}) =>
  stream.call<v1.PredictResponse>({ modelSpec: { name, version: 1 }, inputs: {} }, metadata, Date.now() + deadlineMs);

describe('GrpcItemStream', () => {
  it('sends the requests of one turn as one message and gives each its own answer as it comes, with its metadata and deadline', async () => {
    const { server, port, seen } = await inferenceServer();
    cleanup.push(() => server.forceShutdown());
    const stream = streamTo(port);
    const order: string[] = [];
    const slow = predict(stream, 'slow', 5_000, { 'x-request-id': 'req-1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }).then((r) => order.push(r.modelSpec!.name));
    const fast = predict(stream, 'ok').then((r) => order.push(r.modelSpec!.name));
    await Promise.all([slow, fast]);
    // The fast one did not wait for the slow one, though both left in one message.
    expect(order).toEqual(['ok', 'slow']);
    expect(seen.messages).toEqual([2]);
    expect(seen.items[0]).toMatchObject({ requestId: 'req-1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    expect(seen.items[0].timeoutMs).toBeGreaterThan(4_000);
    expect(seen.items[0].timeoutMs).toBeLessThanOrEqual(5_000);
    expect(seen.items[0].id).not.toBe(seen.items[1].id);
    // Later requests reuse the stream: many at once, each answered.
    const replies = await Promise.all(Array.from({ length: 50 }, () => predict(stream, 'ok')));
    expect(replies.every((r) => r.modelSpec?.name === 'ok')).toBe(true);
    expect(seen.items).toHaveLength(52);
    expect(stream.inFlight).toBe(0);
  });

  it('fails an item with its code, its message and its taxonomy code, and leaves the others alone', async () => {
    const { server, port } = await inferenceServer();
    cleanup.push(() => server.forceShutdown());
    const stream = streamTo(port);
    const [failed, fine] = await Promise.allSettled([predict(stream, 'full'), predict(stream, 'ok')]);
    expect(fine.status).toBe('fulfilled');
    const err = (failed as PromiseRejectedResult).reason as grpc.ServiceError;
    expect(err).toMatchObject({ code: grpc.status.UNAVAILABLE, details: 'queue of "spam" v2 is full' });
    const translated = fromGrpcError(err);
    expect(translated.code).toBe(ErrorCode.RESOURCE_EXHAUSTED);
    expect(translated.retryAfterSeconds).toBe(7);
    expect(err.metadata.get(ERROR_CODE_TRAILER)).toEqual([ErrorCode.RESOURCE_EXHAUSTED]);
    expect(err.metadata.get(RETRY_AFTER_TRAILER)).toEqual(['7']);
  });

  it('ends an item at its deadline with DEADLINE_EXCEEDED; a deadline already past is not sent', async () => {
    const { server, port, seen } = await inferenceServer();
    cleanup.push(() => server.forceShutdown());
    const stream = streamTo(port);
    const started = Date.now();
    await expect(predict(stream, 'hang', 200)).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(stream.inFlight).toBe(0);
    await expect(predict(stream, 'ok', -1)).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
    expect(seen.items).toHaveLength(1);
    // The stream is still good.
    await expect(predict(stream, 'ok')).resolves.toMatchObject({ modelSpec: { name: 'ok' } });
  });

  it('cancels an item its caller gave up on: CANCELLED here, and named in the next message so inference drops it', async () => {
    const { server, port, seen } = await inferenceServer();
    cleanup.push(() => server.forceShutdown());
    const stream = streamTo(port);
    const request = { modelSpec: { name: 'hang', version: 1 }, inputs: {} };
    const gone = new RequestCancellation();
    const sent = stream.call(request, {}, Date.now() + 5_000, gone);
    await expect.poll(() => seen.items.length).toBe(1);
    gone.abort();
    await expect(sent).rejects.toMatchObject({ code: grpc.status.CANCELLED });
    expect(stream.inFlight).toBe(0);
    await expect.poll(() => seen.cancelled).toEqual([[seen.items[0].id]]);
    // One given up before its turn's message left is never sent at all; a cancelled one is refused at once.
    const early = new RequestCancellation();
    const unsent = stream.call(request, {}, Date.now() + 5_000, early);
    early.abort();
    await expect(unsent).rejects.toMatchObject({ code: grpc.status.CANCELLED });
    await expect(stream.call(request, {}, Date.now() + 5_000, early)).rejects.toMatchObject({ code: grpc.status.CANCELLED });
    await expect(predict(stream, 'ok')).resolves.toMatchObject({ modelSpec: { name: 'ok' } });
    expect(seen.items.map((i) => i.request?.modelSpec?.name)).toEqual(['hang', 'ok']);
    expect(seen.cancelled).toHaveLength(1);
  });

  it('sends unary Predicts to a server without the stream (an older replica)', async () => {
    const { server, port, seen } = await inferenceServer(false);
    cleanup.push(() => server.forceShutdown());
    const stream = streamTo(port);
    const replies = await Promise.all([predict(stream, 'ok'), predict(stream, 'slow')]);
    expect(replies.map((r) => r.modelSpec?.name)).toEqual(['ok', 'slow']);
    await expect(predict(stream, 'ok')).resolves.toMatchObject({ modelSpec: { name: 'ok' } });
    expect(seen.unary).toHaveLength(3);
  });

  it('fails the items in flight with UNAVAILABLE when the server dies, and opens a new stream for the next', async () => {
    const first = await inferenceServer();
    const stream = streamTo(first.port);
    await expect(predict(stream, 'ok')).resolves.toBeDefined();
    const pending = predict(stream, 'hang');
    await expect.poll(() => first.seen.items.length).toBe(2);
    first.server.forceShutdown();
    await expect(pending).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    // A new server on the same port: the next item dials again.
    const again = await inferenceServer(true, first.port);
    cleanup.push(() => again.server.forceShutdown());
    await expect(predict(stream, 'ok')).resolves.toMatchObject({ modelSpec: { name: 'ok' } });
  });

  it('on a graceful shutdown ends its side, so items already sent are answered and the server can finish', async () => {
    const { server, port, seen } = await inferenceServer();
    cleanup.push(() => server.forceShutdown());
    const stream = streamTo(port);
    const slow = predict(stream, 'slow');
    await expect.poll(() => seen.items.length).toBe(1);
    const shutdown = new Promise<Error | undefined>((resolve) => server.tryShutdown(resolve));
    await expect(slow).resolves.toMatchObject({ modelSpec: { name: 'slow' } });
    await expect(shutdown).resolves.toBeUndefined();
    expect(seen.streamsEnded).toBe(1);
  });
});

describe('messageReader', () => {
  it('reads messages split across chunks and several in one chunk, and refuses oversized or compressed ones', () => {
    const got: string[] = [];
    const read = messageReader(100, (bytes) => got.push(bytes.toString()));
    const two = Buffer.concat([frameOf(Buffer.from('hello')), frameOf(Buffer.from('world'))]);
    expect(read(two.subarray(0, 3))).toBeUndefined();
    expect(read(two.subarray(3, 12))).toBeUndefined();
    expect(read(two.subarray(12))).toBeUndefined();
    expect(got).toEqual(['hello', 'world']);
    expect(messageReader(4, () => undefined)(frameOf(Buffer.from('hello')))).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    const compressed = frameOf(Buffer.from('x'));
    compressed[0] = 1;
    expect(messageReader(100, () => undefined)(compressed)).toMatchObject({ code: grpc.status.INTERNAL });
  });
});
