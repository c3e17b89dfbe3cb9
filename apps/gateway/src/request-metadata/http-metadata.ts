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

export function httpMetadata(req: HttpHeadersSource): RequestMetadata {
  return {
    get: (name) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    },
    headers: req.headers,
    timeoutMs: () => parseTimeoutHeader(req.headers[TIMEOUT_HEADER]),
  };
}

export function setResponseHeaders(res: HttpHeadersSink, headers: ResponseMetadata): void {
  for (const [name, value] of headers) res.header(name, value);
}
