import type { IncomingHttpHeaders } from 'node:http';
import { parseTimeoutHeader } from './deadline';
import { TIMEOUT_HEADER, type RequestMetadata, type ResponseMetadata } from './request-metadata';

/** Any HTTP request object with Node's header bag (Express and Fastify requests both have one). */
export interface HttpHeadersSource {
  headers: IncomingHttpHeaders;
}

/** Any HTTP response that takes headers one at a time (Fastify's reply; Express's response has the same method). */
export interface HttpHeadersSink {
  header(name: string, value: string): unknown;
}

/**
 * A class rather than an object of arrow functions: the bundle keeps function names
 * (esbuild keepNames, for Nest), which names every arrow created per request with a
 * defineProperty call, about 1% of the gateway's main thread.
 */
class HttpMetadata implements RequestMetadata {
  constructor(private readonly req: HttpHeadersSource) {}

  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }

  get(name: string): string | undefined {
    const value = this.req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  }

  timeoutMs(): number | undefined {
    return parseTimeoutHeader(this.req.headers[TIMEOUT_HEADER]);
  }
}

export function httpMetadata(req: HttpHeadersSource): RequestMetadata {
  return new HttpMetadata(req);
}

export function setResponseHeaders(res: HttpHeadersSink, headers: ResponseMetadata): void {
  for (const [name, value] of headers) res.header(name, value);
}
