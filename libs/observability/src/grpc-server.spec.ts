import { Metadata } from '@grpc/grpc-js';
import { Logger } from '@nestjs/common';
import { Transport, type ServerGrpc } from '@nestjs/microservices';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { grpcServerStrategy } from './grpc-server';
import { currentRequestContext } from './request-context';

type Hook = (transport: Transport, context: unknown, done: () => Promise<unknown>) => Promise<unknown>;
const hookOf = () => (grpcServerStrategy({ transport: Transport.GRPC, options: { url: '127.0.0.1:0', package: [], protoPath: [] } }).strategy as unknown as { onProcessingStartHook: Hook }).onProcessingStartHook;

describe('grpcServerStrategy', () => {
  afterEach(() => vi.restoreAllMocks());

  it('logs each call at debug with its method, inside its request context', async () => {
    const lines: unknown[] = [];
    vi.spyOn(Logger.prototype, 'debug').mockImplementation((fields: unknown) => void lines.push({ fields, ctx: currentRequestContext() }));
    const metadata = new Metadata();
    metadata.set('x-request-id', 'req-7');
    await hookOf()(Transport.GRPC, { metadata, path: '/servable.inference.v1.InferenceService/Predict' }, async () => undefined);
    expect(lines).toEqual([{ fields: { method: '/servable.inference.v1.InferenceService/Predict' }, ctx: { requestId: 'req-7' } }]);
  });

  it("serves each call inside the request context of its metadata, through the handler's awaits", async () => {
    const metadata = new Metadata();
    metadata.set('x-request-id', 'req-42');
    metadata.set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    const seen = await hookOf()(Transport.GRPC, { metadata, request: {} }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      return currentRequestContext();
    });
    expect(seen).toEqual({ requestId: 'req-42', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    expect(currentRequestContext()).toBeUndefined();
  });

  it('mints a request id for a call that carries none', async () => {
    const seen = (await hookOf()(Transport.GRPC, { metadata: new Metadata() }, async () => currentRequestContext())) as { requestId: string };
    expect(seen.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('is a Nest gRPC server', () => {
    expect((grpcServerStrategy({ transport: Transport.GRPC, options: { url: '127.0.0.1:0', package: [], protoPath: [] } }).strategy as ServerGrpc).transportId).toBe(Transport.GRPC);
  });
});
