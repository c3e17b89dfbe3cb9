import { connect, type AddressInfo } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../config/gateway.config';
import { sendHttpError, toHttpError } from '../errors/error-response';
import { createFastifyAdapter, fastifyPath } from './fastify-adapter';

describe('fastifyPath', () => {
  it('turns an escaped colon after a parameter into find-my-way syntax, and leaves other paths alone', () => {
    expect(fastifyPath('/v1/models/:model\\:classify')).toBe('/v1/models/:model([^/:]+)::classify');
    expect(fastifyPath('/v1/models/:model/versions/:version\\:predict')).toBe('/v1/models/:model/versions/:version([^/:]+)::predict');
    expect(fastifyPath('/v2/models/:model/infer')).toBe('/v2/models/:model/infer');
  });
});

describe('createFastifyAdapter', () => {
  let fastify: FastifyInstance;

  beforeAll(async () => {
    fastify = createFastifyAdapter(loadGatewayConfig({ MAX_BODY_BYTES: '64' })).getInstance();
    // What HttpExceptionFilter does in the app.
    fastify.setErrorHandler((err, _req, reply) => sendHttpError(reply, toHttpError(err)));
    const echo = (route: string) => async (req: { params: unknown; body: unknown }) => ({ route, params: req.params, body: Buffer.isBuffer(req.body) ? `${req.body.length} raw bytes` : req.body });
    fastify.post('/v1/models/:model\\:classify', echo('classify'));
    fastify.post('/v1/models/:model\\:predict', echo('predict'));
    fastify.post('/v1/models/:model/versions/:version\\:classify', echo('version classify'));
    fastify.get('/v1/models/:model', echo('status'));
    fastify.post('/v2/models/:model/infer', echo('infer'));
    await fastify.ready();
  });
  afterAll(() => fastify?.close());

  const post = (url: string, payload: string | Buffer, headers: Record<string, string> = {}) => fastify.inject({ method: 'POST', url, payload, headers });

  it('routes custom methods after a parameter, whatever the case of the path and a trailing slash', async () => {
    expect((await post('/v1/models/spam:classify', '{}')).json()).toEqual({ route: 'classify', params: { model: 'spam' }, body: {} });
    expect((await post('/v1/models/spam:predict/', '{}')).json()).toMatchObject({ route: 'predict', params: { model: 'spam' } });
    expect((await post('/V1/Models/spam/versions/2:classify', '{}')).json()).toMatchObject({ route: 'version classify', params: { model: 'spam', version: '2' } });
    expect((await fastify.inject({ method: 'GET', url: '/v1/models/spam' })).json()).toMatchObject({ route: 'status', params: { model: 'spam' } });
  });

  it('reads a body as JSON whatever its content-type, and an OIP binary request raw', async () => {
    expect((await post('/v1/models/spam:classify', '{"texts":["a"]}', { 'content-type': 'application/x-www-form-urlencoded' })).json()).toMatchObject({ body: { texts: ['a'] } });
    expect((await post('/v1/models/spam:classify', '{"texts":["a"]}', { 'content-type': 'text/plain' })).json()).toMatchObject({ body: { texts: ['a'] } });
    // A UTF-8 byte order mark before the JSON (PowerShell's Out-File) is dropped.
    expect((await post('/v1/models/spam:classify', '\uFEFF{"texts":["a"]}')).json()).toMatchObject({ body: { texts: ['a'] } });
    const binary = await post('/v2/models/spam/infer', '{"inputs":[]}\u0001\u0002', { 'content-type': 'application/octet-stream', 'inference-header-content-length': '13' });
    expect(binary.json()).toMatchObject({ body: '15 raw bytes' });
    // The binary extension's header means nothing on another route: that body is still JSON.
    const stray = await post('/v1/models/spam:predict', '{"instances":["a"]}', { 'inference-header-content-length': '5' });
    expect(stray.json()).toMatchObject({ body: { instances: ['a'] } });
  });

  it('inflates a compressed body (gzip, deflate, br) as Triton takes it, within MAX_BODY_BYTES after inflating', async () => {
    const json = '{"texts":["a"]}';
    for (const [encoding, compress] of [['gzip', gzipSync], ['deflate', deflateSync], ['br', brotliCompressSync]] as const) {
      expect((await post('/v1/models/spam:classify', compress(json), { 'content-encoding': encoding })).json(), encoding).toMatchObject({ body: { texts: ['a'] } });
    }
    const bomb = await post('/v1/models/spam:classify', gzipSync(`{"texts":["${'x'.repeat(10_000)}"]}`), { 'content-encoding': 'gzip' });
    expect(bomb.statusCode).toBe(413);
    const unknown = await post('/v1/models/spam:classify', json, { 'content-encoding': 'zstd' });
    expect(unknown.statusCode).toBe(415);
    expect(unknown.json().error).toMatch(/Content-Encoding "zstd" is not supported/);
    const corrupt = await post('/v1/models/spam:classify', json, { 'content-encoding': 'gzip' });
    expect(corrupt.statusCode).toBe(400);
  });

  it('refuses malformed JSON with 400 and a body over MAX_BODY_BYTES with 413', async () => {
    const malformed = await post('/v1/models/spam:classify', '{"texts": [', { 'content-type': 'application/json' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ code: 'INVALID_ARGUMENT', error: expect.stringMatching(/^malformed JSON body/) });
    expect((await post('/v1/models/spam:classify', '"text"')).statusCode).toBe(400);
    const big = await post('/v1/models/spam:classify', JSON.stringify({ texts: ['x'.repeat(100)] }), { 'content-type': 'application/json' });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ code: 'INVALID_ARGUMENT', error: expect.stringContaining('MAX_BODY_BYTES') });
  });
});

describe("requests Node's parser refuses before any route", () => {
  let fastify: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    fastify = createFastifyAdapter(loadGatewayConfig({})).getInstance();
    fastify.get('/x', async () => ({}));
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    port = (fastify.server.address() as AddressInfo).port;
  });
  afterAll(() => fastify?.close());

  /** Sends raw bytes and reads the whole answer. */
  const raw = (request: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(request));
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk));
      socket.on('close', () => resolve(answer));
      socket.on('error', reject);
    });
  const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));

  it('answers them as every other error is, {"error", "code"}, not in Fastify\'s own shape', async () => {
    const big = await raw(`GET /x HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big.startsWith('HTTP/1.1 431 ')).toBe(true);
    expect(bodyOf(big)).toEqual({ error: 'the request headers are over the 16 KB limit', code: 'INVALID_ARGUMENT' });
    const garbled = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect(garbled.startsWith('HTTP/1.1 400 ')).toBe(true);
    expect(bodyOf(garbled)).toMatchObject({ code: 'INVALID_ARGUMENT', error: expect.stringMatching(/^malformed HTTP request \(HPE_/) });
  });
});
