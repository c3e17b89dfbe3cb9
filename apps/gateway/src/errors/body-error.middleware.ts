import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendHttpError, toHttpError } from './error-response';

/**
 * Express error middleware for failures before any Nest handler runs (the
 * JSON body parser): malformed JSON and oversized bodies get the same
 * {"error", "code"} body as everything else instead of Express's HTML page.
 */
export function bodyErrorMiddleware(err: unknown, _req: IncomingMessage, res: ServerResponse, _next: (err?: unknown) => void): void {
  sendHttpError(res, toHttpError(err));
}
