import { Metadata } from '@grpc/grpc-js';
import { Logger } from '@nestjs/common';
import { Transport, type ServerGrpc } from '@nestjs/microservices';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { grpcServerStrategy } from './grpc-server';

type Hook = (transport: Transport, context: unknown, done: () => Promise<unknown>) => unknown;
const OPTIONS = { transport: Transport.GRPC, options: { url: '127.0.0.1:0', package: [], protoPath: [] } } as const;
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
