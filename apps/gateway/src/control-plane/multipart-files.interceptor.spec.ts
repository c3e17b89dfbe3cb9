import fastifyMultipart from '@fastify/multipart';
import { Controller, Module, Post, UseInterceptors, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_CONFIG } from '../config/gateway.config';
import { MultipartFilesInterceptor, UploadedFileFields } from './multipart-files.interceptor';

@Controller()
class UploadController {
  @Post('upload')
  @UseInterceptors(
    MultipartFilesInterceptor(
      [
        { name: 'files', maxCount: 2 },
        { name: 'tokenizer', maxCount: 1 },
      ],
      { files: 3 },
    ),
  )
  upload(@UploadedFileFields() uploaded: UploadedFileFields | undefined) {
    if (!uploaded) return { multipart: false };
    return Object.fromEntries(Object.entries(uploaded).map(([field, files]) => [field, files.map((f) => `${f.originalname}:${f.buffer.toString()}`)]));
  }
}

@Module({ controllers: [UploadController], providers: [{ provide: GATEWAY_CONFIG, useValue: { MAX_UPLOAD_BYTES: 16 } }] })
class UploadModule {}

describe('MultipartFilesInterceptor', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    const nest = await NestFactory.create<NestFastifyApplication>(UploadModule, new FastifyAdapter(), { logger: false });
    await nest.register(fastifyMultipart);
    await nest.listen(0, '127.0.0.1');
    app = nest;
    url = `${await nest.getUrl()}/upload`.replace('[::1]', '127.0.0.1');
  });
  afterAll(() => app?.close());

  const form = (...parts: [string, string, string][]) => {
    const body = new FormData();
    for (const [field, name, text] of parts) body.append(field, new Blob([text]), name);
    return body;
  };
  const post = async (body: FormData | string) => {
    const res = await fetch(url, { method: 'POST', body, ...(typeof body === 'string' ? { headers: { 'content-type': 'application/json' } } : {}) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('hands the files over by field, in order', async () => {
    const res = await post(form(['files', 'a.json', '{"a":1}'], ['files', 'b.bin', 'bytes'], ['tokenizer', 't.json', '{}']));
    expect(res).toEqual({ status: 201, body: { files: ['a.json:{"a":1}', 'b.bin:bytes'], tokenizer: ['t.json:{}'] } });
  });

  it('hands a file name over as sent, path and all, for the registry to refuse (busboy kept only its last part)', async () => {
    const res = await post(form(['files', '../../a.json', '{}'], ['tokenizer', '/tmp/t.json', '{}']));
    expect(res).toEqual({ status: 201, body: { files: ['../../a.json:{}'], tokenizer: ['/tmp/t.json:{}'] } });
  });

  it('passes a request that is not multipart with no files', async () => {
    expect(await post('{}')).toEqual({ status: 201, body: { multipart: false } });
  });

  it('answers 413 for files over MAX_UPLOAD_BYTES, alone or together', async () => {
    const message = 'the upload is over MAX_UPLOAD_BYTES (16 bytes in all)';
    const big = await post(form(['files', 'big.bin', 'x'.repeat(17)]));
    expect(big).toEqual({ status: 413, body: expect.objectContaining({ message }) });
    // Each under the bound, 18 bytes together (a bound per file let these through).
    const together = await post(form(['files', 'a.bin', 'x'.repeat(9)], ['files', 'b.bin', 'y'.repeat(9)]));
    expect(together).toEqual({ status: 413, body: expect.objectContaining({ message }) });
    const exactly = await post(form(['files', 'a.bin', 'x'.repeat(8)], ['tokenizer', 't.json', 'y'.repeat(8)]));
    expect(exactly.status).toBe(201);
  });

  it('answers 400 for a field it does not take, or one file too many in a field', async () => {
    const other = await post(form(['other', 'a.json', '{}']));
    expect(other.status).toBe(400);
    expect(other.body['message']).toBe('Unexpected file field - other');
    const twice = await post(form(['tokenizer', 'a.json', '{}'], ['tokenizer', 'b.json', '{}']));
    expect(twice.status).toBe(400);
    expect(twice.body['message']).toBe('Unexpected file field - tokenizer');
  });

  it('answers 400 for more files than the request may carry, and for a malformed body', async () => {
    const many = await post(form(['files', 'a', '1'], ['files', 'b', '2'], ['tokenizer', 't', '3'], ['files', 'c', '4']));
    expect(many.status).toBe(400);
    expect(many.body['message']).toBe('Too many files');
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=xyz' }, body: 'garbage' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/^Multipart: /);
  });
});
