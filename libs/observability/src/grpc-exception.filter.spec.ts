import { Metadata } from '@grpc/grpc-js';
import { Logger, type ArgumentsHost } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, ServableError } from '@servable/contracts';
import { GrpcExceptionFilter } from './grpc-exception.filter';

const metadata = new Metadata();
metadata.set('x-request-id', 'req-9');
const hostFor = (path: string) => ({ getArgByIndex: (i: number) => (i === 2 ? { getPath: () => path } : i === 1 ? metadata : undefined) }) as unknown as ArgumentsHost;
const failure = (o: ReturnType<GrpcExceptionFilter['catch']>) => lastValueFrom(o).then(() => undefined, (err: { code: number; details?: string; message?: string }) => err);

describe('GrpcExceptionFilter', () => {
  afterEach(() => vi.restoreAllMocks());

  it("answers a ServableError with its code and logs it at warn, naming the method and the caller's request id", async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const err = await failure(new GrpcExceptionFilter().catch(ServableError.invalid('texts[0] is empty'), hostFor('/servable.tokenizer.v1.TokenizerService/Encode')));
    expect(err?.code).toBe(3); // INVALID_ARGUMENT
    expect(warn).toHaveBeenCalledWith(
      { requestId: 'req-9', method: '/servable.tokenizer.v1.TokenizerService/Encode', code: ErrorCode.INVALID_ARGUMENT },
      '/servable.tokenizer.v1.TokenizerService/Encode failed: INVALID_ARGUMENT: texts[0] is empty',
    );
  });

  it('answers a status lookup of an unknown model NOT_FOUND without a warn line: the reconcile asks that every round', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const debug = vi.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
    const err = await failure(new GrpcExceptionFilter().catch(ServableError.notFound('model "gone" is not served here'), hostFor('/servable.inference.v1.InferenceService/GetModelStatus')));
    expect(err?.code).toBe(5); // NOT_FOUND
    expect(warn).not.toHaveBeenCalled();
    expect(debug).toHaveBeenCalledTimes(1);
    // The same code from any other method is still worth a line.
    await failure(new GrpcExceptionFilter().catch(ServableError.notFound('no such model'), hostFor('/servable.inference.v1.InferenceService/Predict')));
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('turns anything else into INTERNAL with an errorId that the error log shares', async () => {
    const error = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const err = await failure(new GrpcExceptionFilter().catch(new TypeError('boom'), hostFor('/x.Y/Z')));
    expect(err?.code).toBe(13); // INTERNAL
    const [fields] = error.mock.calls[0] as [{ errorId: string; method: string; requestId: string }];
    expect(fields.method).toBe('/x.Y/Z');
    expect(fields.requestId).toBe('req-9');
    expect(JSON.stringify(err)).toContain(fields.errorId);
  });

  it('passes an RpcException that already carries a gRPC status through', async () => {
    const err = await failure(new GrpcExceptionFilter().catch(new RpcException({ code: 5, message: 'gone' }), hostFor('/x.Y/Z')));
    expect(err).toEqual({ code: 5, message: 'gone' });
  });
});
