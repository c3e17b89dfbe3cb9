import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { brotliDecompressSync, gunzipSync, inflateSync, type ZlibOptions } from 'node:zlib';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { errorCodes, type FastifyInstance, type FastifyRequest, type RouteOptions } from 'fastify';
import { ErrorCode, ServableError, utf8Text } from '@servable/contracts';
import type { GatewayConfig } from '../config/gateway.config';
import { isBinaryInferRequest } from './oip-binary';

/**
 * Nest's Fastify adapter, set up to route and read bodies the way the gateway's clients
 * expect (docs/api.md): trailing slashes and letter case do not matter, a body is JSON
 * whatever its content-type, and Node's own connection timeouts apply.
 */
export function createFastifyAdapter(config: GatewayConfig): FastifyAdapter {
  const adapter = new FastifyAdapter({
    bodyLimit: config.MAX_BODY_BYTES,
    // Express-style middleware (@fastify/middie) runs on every request; the gateway needs none: hooks instead.
    skipMiddie: true,
    routerOptions: {
      ignoreTrailingSlash: true,
      caseSensitive: false,
      // find-my-way's default (100) would 404 a longer model name before the registry could say why.
      maxParamLength: 1_000,
    },
    // Node's http defaults rather than Fastify's (72 s keep-alive, no request timeout).
    keepAliveTimeout: 5_000,
    requestTimeout: 300_000,
    clientErrorHandler: answerClientError,
  });
  const fastify = adapter.getInstance();
  fastify.addHook('onRoute', (route: RouteOptions) => {
    route.url = fastifyPath(route.url);
  });
  readBodies(fastify, config.MAX_BODY_BYTES);
  return adapter;
}

/**
 * A request Node's parser refused before any route saw it (headers over 16 KB, a malformed
 * request line, a request that took longer than requestTimeout), answered as every other
 * error is, `{"error", "code"}`: Fastify's own answer is `{"error", "message", "statusCode"}`.
 * Otherwise Fastify's default: nothing for a reset connection, and the socket closes after.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, body] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, { error: 'the request was not received in time', code: ErrorCode.DEADLINE_EXCEEDED }]
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, { error: 'the request headers are over the 16 KB limit', code: ErrorCode.INVALID_ARGUMENT }]
        : [400, { error: `malformed HTTP request (${err.code ?? 'client error'})`, code: ErrorCode.INVALID_ARGUMENT }];
  const json = JSON.stringify(body);
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(json)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${json}`);
  }
  socket.destroy(err);
}

/**
 * The routes keep path-to-regexp's syntax (Swagger reads it): a custom method after a
 * parameter is `:model\:classify`. find-my-way knows no escape there: a parameter
 * followed by a literal colon needs a pattern to end it and `::` for the colon.
 */
export function fastifyPath(path: string): string {
  return path.replace(/:(\w+)\\:/g, ':$1([^/:]+)::');
}

/**
 * Every body but a multipart upload (@fastify/multipart's parser) or an OIP binary-tensor
 * request is read as JSON whatever its content-type (curl -d sends form encoding), up to
 * MAX_BODY_BYTES. OIP binary tensor data (tritonclient.http's default) stays a Buffer: a JSON
 * header and raw tensors, split by the OIP controller. A compressed body (tritonclient's
 * request_compression_algorithm) is inflated first, to at most MAX_BODY_BYTES as well.
 */
function readBodies(fastify: FastifyInstance, limit: number): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limit }, (req: FastifyRequest, raw: Buffer, done: (err: Error | null, body?: unknown) => void) => {
    try {
      const body = decodeBody(raw, req.headers['content-encoding'], limit);
      done(null, isBinaryInferRequest(req) ? body : parseJson(utf8Text(body, 'the body')));
    } catch (err) {
      done(err as Error);
    }
  });
}

const INFLATE: Record<string, (buf: Buffer, options: ZlibOptions) => Buffer> = { gzip: gunzipSync, 'x-gzip': gunzipSync, deflate: inflateSync, br: brotliDecompressSync };

/** The body as sent before Content-Encoding: gzip, deflate and br, as Triton's HTTP endpoint takes them. */
function decodeBody(raw: Buffer, header: string | string[] | undefined, limit: number): Buffer {
  const encoding = String(header ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return raw;
  const inflate = INFLATE[encoding];
  if (!inflate) {
    throw Object.assign(new Error(`Content-Encoding "${encoding}" is not supported: send the body as is, or gzip, deflate or br`), { statusCode: 415 });
  }
  try {
    // maxOutputLength: a small compressed body cannot inflate past the limit an uncompressed one has.
    return inflate(raw, { maxOutputLength: limit });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
    throw ServableError.invalid(`the body is not valid ${encoding} data (Content-Encoding): ${(err as Error).message}`);
  }
}

/** JSON as the Express body parser read it: an empty body is no body, and the top level is an object or an array. */
function parseJson(raw: string): unknown {
  // A UTF-8 byte order mark (what Windows PowerShell's Out-File writes) is not JSON, but not the caller's content either.
  const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
  const first = /\S/.exec(text);
  if (!first) return undefined;
  if (first[0] !== '{' && first[0] !== '[') throw ServableError.invalid('malformed JSON body: the top level must be an object or an array');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw ServableError.invalid(`malformed JSON body: ${(err as Error).message}`);
  }
}
