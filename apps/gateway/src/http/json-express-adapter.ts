import { ExpressAdapter } from '@nestjs/platform-express';
import type { ServerResponse } from 'node:http';

type Reply = ServerResponse & { req: { method?: string } };

/**
 * Express with a shorter path for the common answer, a plain object or array
 * with no content-type set yet: res.json() would look up its settings, the
 * mime type and the charset, and check freshness on every answer. This writes
 * the same bytes and headers (the gateway sends no ETag). Everything else
 * (strings, buffers, streams, errors) goes through Nest's reply as before.
 */
export class JsonExpressAdapter extends ExpressAdapter {
  override reply(response: Reply, body: unknown, statusCode?: number): unknown {
    const status = statusCode || response.statusCode;
    // 204 and 304 carry no body: Express strips it.
    if (!isPlainJson(body) || status === 204 || status === 304 || response.headersSent || response.hasHeader('content-type')) {
      return super.reply(response, body, statusCode);
    }
    response.statusCode = status;
    const json = JSON.stringify(body);
    response.setHeader('content-type', 'application/json; charset=utf-8');
    response.setHeader('content-length', Buffer.byteLength(json));
    return response.end(response.req.method === 'HEAD' ? undefined : json);
  }
}

function isPlainJson(body: unknown): body is object {
  if (body === null || typeof body !== 'object') return false;
  const proto = Object.getPrototypeOf(body);
  return proto === Object.prototype || proto === null || Array.isArray(body);
}
