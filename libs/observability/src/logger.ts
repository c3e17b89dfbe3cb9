import type { IncomingMessage } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import { REQUEST_ID_HEADER, requestContextFrom, requestLogFields } from './request-context';

const PROBES = /^\/(healthz|readyz|livez|metrics|v2\/health)/;

/**
 * Structured JSON logs (pino). Credentials are redacted, probes and scrapes
 * are not logged (they would drown everything else), and every line inside a
 * request carries its request id and traceparent.
 */
export function pinoOptions(service: string) {
  return {
    name: service,
    level: process.env['LOG_LEVEL'] ?? 'info',
    base: { service },
    mixin: requestLogFields,
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie'],
      censor: '[redacted]',
    },
  };
}

export function loggerModule(service: string) {
  return LoggerModule.forRoot({
    pinoHttp: {
      ...pinoOptions(service),
      autoLogging: { ignore: (req: IncomingMessage) => PROBES.test(req.url ?? '') },
      genReqId: (req: IncomingMessage) => requestContextFrom(req.headers[REQUEST_ID_HEADER], undefined).requestId,
    },
  });
}
