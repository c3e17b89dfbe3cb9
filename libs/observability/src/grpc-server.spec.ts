import { Metadata } from '@grpc/grpc-js';
import { Logger } from '@nestjs/common';
import { Transport, type GrpcOptions, type ServerGrpc } from '@nestjs/microservices';
import { of, throwError } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { grpcServerStrategy } from './grpc-server';

type Hook = (transport: Transport, context: unknown, done: () => Promise<unknown>) => unknown;
const OPTIONS: GrpcOptions = { transport: Transport.GRPC, options: { url: '127.0.0.1:0', package: [], protoPath: [] } };
const hookOf = (level: string) => (grpcServerStrategy(OPTIONS, level).strategy as unknown as { onProcessingStartHook: Hook }).onProcessingStartHook;

describe('grpcServerStrategy', () => {
  afterEach(() => vi.restoreAllMocks());

  it("at debug, logs each call with its method and the caller's request id and traceparent", async () => {
    const debug = vi.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
    const metadata = new Metadata();
    metadata.set('x-request-id', 'req-7');
    metadata.set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    const answer = await hookOf('debug')(Transport.GRPC, { metadata, path: '/servable.inference.v1.InferenceService/Predict' }, async () => 'served');
    expect(answer).toBe('served');
    expect(debug).toHaveBeenCalledWith(
      { method: '/servable.inference.v1.InferenceService/Predict', requestId: 'req-7', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      'gRPC call',
    );
  });

  it('at info, serves calls without a hook of its own', async () => {
    const debug = vi.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
    expect(await hookOf('info')(Transport.GRPC, { metadata: new Metadata() }, async () => 'served')).toBe('served');
    expect(debug).not.toHaveBeenCalled();
  });

  it('is a Nest gRPC server', () => {
    expect((grpcServerStrategy(OPTIONS).strategy as ServerGrpc).transportId).toBe(Transport.GRPC);
  });
});

describe("grpcServerStrategy's unary calls", () => {
  afterEach(() => vi.restoreAllMocks());
  type Unary = (call: { request: unknown; metadata: Metadata }, callback: (err: unknown, value?: unknown) => void) => unknown;
  const unaryOf = (level: string, handler: (...args: unknown[]) => Promise<unknown>) =>
    (grpcServerStrategy(OPTIONS, level).strategy as unknown as { createUnaryServiceMethod(h: unknown): Unary }).createUnaryServiceMethod(handler);
  const answer = (unary: Unary, request: unknown = { n: 1 }) =>
    new Promise<{ err: unknown; value: unknown; calls: number }>((resolve) => {
      let calls = 0;
      unary({ request, metadata: new Metadata() }, (err, value) => {
        calls++;
        setTimeout(() => resolve({ err, value, calls }), 20);
      });
    });

  it("hands the handler the request, metadata and call, and its answer to grpc-js's callback", async () => {
    const handler = vi.fn(async (request: unknown, _metadata?: unknown, _call?: unknown) => ({ echoed: request }));
    expect(await answer(unaryOf('info', handler), { n: 7 })).toEqual({ err: null, value: { echoed: { n: 7 } }, calls: 1 });
    expect(handler.mock.calls[0]?.[1]).toBeInstanceOf(Metadata);
    expect(handler.mock.calls[0]?.[2]).toMatchObject({ request: { n: 7 } });
  });

  it("answers with the error an exception filter turned into an Observable, once", async () => {
    const error = { code: 3, details: 'bad input' };
    expect(await answer(unaryOf('info', async () => throwError(() => error)))).toEqual({ err: error, value: undefined, calls: 1 });
  });

  it('answers with the first value of an Observable answer, and with a rejected handler\'s error', async () => {
    expect(await answer(unaryOf('info', async () => of({ a: 1 })))).toEqual({ err: null, value: { a: 1 }, calls: 1 });
    const error = new Error('boom');
    expect(await answer(unaryOf('info', () => Promise.reject(error)))).toEqual({ err: error, value: undefined, calls: 1 });
  });

  it('runs the processing hook at debug, and still answers', async () => {
    const debug = vi.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
    expect(await answer(unaryOf('debug', async () => ({ ok: true })))).toEqual({ err: null, value: { ok: true }, calls: 1 });
    expect(debug).toHaveBeenCalledWith(expect.objectContaining({}), 'gRPC call');
  });
});

describe("grpcServerStrategy's unary calls with an end hook", () => {
  it("run Nest's own path, so the hook sees every call end", async () => {
    const strategy = grpcServerStrategy(OPTIONS, 'info').strategy as unknown as {
      setOnProcessingEndHook(hook: (transport: unknown, context: unknown) => void): void;
      createUnaryServiceMethod(h: unknown): (call: unknown, callback: (err: unknown, value?: unknown) => void) => unknown;
    };
    const ended: unknown[] = [];
    strategy.setOnProcessingEndHook((_transport, request) => ended.push(request));
    const unary = strategy.createUnaryServiceMethod(async () => ({ ok: true }));
    const value = await new Promise((resolve) => unary({ request: { n: 3 }, metadata: new Metadata() }, (_err, v) => resolve(v)));
    expect(value).toEqual({ ok: true });
    await new Promise((r) => setTimeout(r, 10));
    expect(ended).toEqual([{ n: 3 }]);
  });
});

describe("grpcServerStrategy's access line (the gateway's public API)", () => {
  afterEach(() => vi.restoreAllMocks());
  type Unary = (call: { request: unknown; metadata: Metadata; getPath(): string }, callback: (err: unknown, value?: unknown) => void) => unknown;
  const unaryOf = (handler: () => Promise<unknown>, level = 'info') =>
    (grpcServerStrategy(OPTIONS, level, { accessLog: true }).strategy as unknown as { createUnaryServiceMethod(h: unknown): Unary }).createUnaryServiceMethod(handler);
  const call = (unary: Unary, path: string, requestId?: string) =>
    new Promise<unknown>((resolve) => {
      const metadata = new Metadata();
      if (requestId) metadata.set('x-request-id', requestId);
      unary({ request: {}, metadata, getPath: () => path }, (err, value) => resolve(err ?? value));
    });

  it('writes a line at info for each call that succeeded, with its method, time and request id', async () => {
    const log = vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    expect(await call(unaryOf(async () => ({ ok: true })), '/tensorflow.serving.PredictionService/Predict', 'req-9')).toEqual({ ok: true });
    expect(log).toHaveBeenCalledTimes(1);
    expect(log).toHaveBeenCalledWith(
      { requestId: 'req-9', method: '/tensorflow.serving.PredictionService/Predict', code: 'OK', responseTime: expect.any(Number) },
      'gRPC call completed',
    );
  });

  it('leaves failed calls to the exception filter and health checks out, at any level', async () => {
    const log = vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
    const error = { code: 5, details: 'model "nope" not found' };
    expect(await call(unaryOf(async () => throwError(() => error)), '/servable.gateway.v1.GatewayService/Classify')).toBe(error);
    expect(await call(unaryOf(async () => ({ status: 'SERVING' })), '/grpc.health.v1.Health/Check')).toEqual({ status: 'SERVING' });
    expect(await call(unaryOf(async () => ({ ok: 1 }), 'debug'), '/servable.gateway.v1.GatewayService/Classify')).toEqual({ ok: 1 });
    expect(log.mock.calls.map((c) => (c[0] as { method: string }).method)).toEqual(['/servable.gateway.v1.GatewayService/Classify']);
  });
});
