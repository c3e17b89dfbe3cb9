import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import { destination, pino, stdSerializers, type Level, type Logger } from 'pino';
import { requestContextOf, requestLogFields } from './request-context';

const PROBES = /^\/(healthz|readyz|livez|metrics|v2\/health)/;
/** Query parameters that carry a credential. The gateway never reads a key from the URL (it answers 401), but a client may still send one there. */
const SECRET_QUERY = /([?&](?:key|api[_-]?key|access[_-]?token|token|password|secret)=)[^&#]*/gi;

/** The URL as it may be logged: a credential in its query string is redacted like the Authorization header. */
export function loggedUrl(url: string | undefined): string | undefined {
  return url === undefined || !url.includes('?') ? url : url.replace(SECRET_QUERY, '$1[redacted]');
}

/** pino's request serializer, with the URL's credentials redacted. */
function serializeRequest(req: IncomingMessage) {
  const out = stdSerializers.req(req);
  out.url = loggedUrl(out.url) ?? out.url;
  return out;
}

/**
 * Structured JSON logs (pino). Credentials are redacted. A line about a
 * request carries its requestId and traceparent as fields, passed explicitly
 * (requestLogFields): no AsyncLocalStorage, whose promise hooks cost every
 * promise of the process about a tenth of the gateway's CPU per request.
 */
export function pinoOptions(service: string) {
  return {
    name: service,
    level: process.env['LOG_LEVEL'] ?? 'info',
    base: { service },
    serializers: { req: serializeRequest, res: stdSerializers.res, err: stdSerializers.err },
    redact: {
      paths: ['req.headers.authorization', 'req.headers["proxy-authorization"]', 'req.headers["x-api-key"]', 'req.headers.cookie'],
      censor: '[redacted]',
    },
  };
}

/**
 * Log lines leave in blocks of this many bytes rather than one write(2) each: at info every
 * request writes an access line, and writing them one by one was 6% of the gateway's main
 * thread at concurrency 64 (V8 profile, sonic-boom's fs.write). pino's asynchronous logging,
 * as its docs give it; a block is also written every LOG_FLUSH_MS, so a quiet service's lines
 * show within a second, and pino writes what is left when the process exits (not on SIGKILL).
 */
const LOG_BLOCK_BYTES = 4096;
const LOG_FLUSH_MS = 1000;

export function createLogger(service: string): Logger {
  // periodicFlush: sonic-boom's own unref'd timer (pino.destination passes the options through).
  return pino(pinoOptions(service), destination({ dest: 1, minLength: LOG_BLOCK_BYTES, sync: false, periodicFlush: LOG_FLUSH_MS }));
}

/**
 * Nest's logger (nestjs-pino) on `logger`. nestjs-pino's own request middleware
 * is left out (no routes): it builds a pino-http child logger with the whole
 * serialized request for every request, and a second AsyncLocalStorage, even
 * when nothing is logged. An HTTP server logs its requests with
 * requestLoggingMiddleware instead.
 */
export function loggerModule(service: string, logger: Logger = createLogger(service)) {
  return LoggerModule.forRoot({ pinoHttp: { logger }, forRoutes: [] });
}

const failures = new WeakMap<IncomingMessage, { code: string; message: string }>();

/** What a failed request answered (its error code and message), for its access line: the status alone does not say why. */
export function noteRequestFailure(req: IncomingMessage, failure: { code: string; message: string }): void {
  failures.set(req, failure);
}

/** A failed request is worth a line even when info is off. */
function levelFor(status: number): Level {
  if (status >= 500) return 'error';
  return status >= 400 ? 'warn' : 'info';
}

type Next = () => void;

/**
 * One line per finished HTTP request: at info for a success (method, url, status,
 * time), at warn for a 4xx and error for a 5xx with the whole (req, res) as pino-http
 * logs them; probes and scrapes
 * are not logged (they would drown everything else). The line carries the
 * requestId and traceparent of the context bound to the request. A response closed
 * before it finished (the client went away) also fires the context's cancellation.
 */
export function requestLoggingMiddleware(logger: Logger) {
  return function logRequest(req: IncomingMessage, res: ServerResponse, next: Next): void {
    if (PROBES.test(req.url ?? '')) return next();
    const started = Date.now();
    // One listener: 'close' follows 'finish' (and an 'error') on every response, and an aborted
    // one gets 'close' alone. Three listeners added and removed per request were 2% of the
    // gateway's main thread at c=64.
    res.once('close', () => {
      const context = requestContextOf(req);
      if (!res.writableFinished) context.cancellation?.abort();
      const level = levelFor(res.statusCode);
      if (!logger.isLevelEnabled(level)) return;
      const responseTime = Date.now() - started;
      const fields = requestLogFields(context);
      // A success gets a cheap line (no header objects to serialize and redact): at info it is
      // written for every request, and serializing req/res was a measurable share of the gateway's CPU.
      if (level === 'info') {
        logger.info({ ...fields, method: req.method, url: loggedUrl(req.url), statusCode: res.statusCode, responseTime }, res.writableFinished ? 'request completed' : 'request aborted');
        return;
      }
      // The request serializer names the request by req.id, as pino-http did.
      const withId = req as unknown as { id?: unknown };
      withId.id ??= context.requestId;
      const aborted = req.readableAborted || !res.writableFinished;
      logger[level]({ ...fields, req, res, responseTime, error: failures.get(req) }, res.statusCode >= 500 ? 'request errored' : aborted ? 'request aborted' : 'request completed');
    });
    next();
  };
}
