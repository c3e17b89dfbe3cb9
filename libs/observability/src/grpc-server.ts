import type { Metadata } from '@grpc/grpc-js';
import { Logger } from '@nestjs/common';
import { ServerGrpc, type CustomStrategy, type GrpcOptions } from '@nestjs/microservices';
import { isObservable } from 'rxjs';
import { clampGrpcServerTimeouts } from './grpc-timeout-clamp';
import { grpcRequestContext, requestLogFields } from './request-context';

type UnaryCallback = (error: unknown, value?: unknown) => void;
interface UnaryCall {
  request: unknown;
  metadata: Metadata;
  getPath?(): string;
}

/** Health checks are probes: their calls are not logged, as REST's /healthz and /readyz are not. */
const PROBE_METHODS = /^\/grpc\.health\.v1\.Health\//;

/**
 * Nest's gRPC server with a shorter path for unary calls when no processing hook is set
 * (with one, as at LOG_LEVEL=debug, Nest's own path runs).
 *
 * Nest's own unary wrapper copies grpc-js's whole call object into a new one for the hook
 * (`{ ...call, operationId }`, a spread of an EventEmitter with a dozen fields), runs the
 * hook through two async functions, and wraps even a plain answer in an Observable with an
 * async `next`. Here the handler Nest built (guards, pipes, interceptors and exception
 * filters, unchanged) is called directly, and a plain answer goes straight to grpc-js's
 * callback; an Observable answer (from an interceptor or an exception filter's throwError)
 * is subscribed to as Nest does. On inference's gRPC thread at c=64 (V8 profile), Nest's
 * microservices package was on the stack in 16% of the busy samples before and 3.6% after,
 * and the thread's CPU per request fell by about 7% (medians of alternating runs; that share
 * also counts the work Nest's frames call into).
 */
class LeanUnaryServerGrpc extends ServerGrpc {
  private hooked = false;
  /** Set for a server that writes an access line per call (the gateway's public API). */
  accessLog?: Pick<Logger, 'log'>;

  override setOnProcessingStartHook(...args: Parameters<ServerGrpc['setOnProcessingStartHook']>): void {
    this.hooked = true;
    super.setOnProcessingStartHook(...args);
  }

  override setOnProcessingEndHook(...args: Parameters<ServerGrpc['setOnProcessingEndHook']>): void {
    this.hooked = true;
    super.setOnProcessingEndHook(...args);
  }

  override createUnaryServiceMethod(methodHandler: (request: unknown, metadata: Metadata, call: UnaryCall) => Promise<unknown>): Function {
    const serve = this.serveUnary(methodHandler);
    const log = this.accessLog;
    if (!log) return serve;
    return (call: UnaryCall, callback: UnaryCallback) => {
      const started = performance.now();
      serve(call, (err, value) => {
        callback(err, value);
        // A failed call has its line already, at warn, from GrpcExceptionFilter (with its code and why).
        const method = call.getPath?.();
        if (err || PROBE_METHODS.test(method ?? '')) return;
        const responseTime = Math.round((performance.now() - started) * 1000) / 1000;
        log.log({ ...requestLogFields(grpcRequestContext(call.metadata)), method, code: 'OK', responseTime }, 'gRPC call completed');
      });
    };
  }

  private serveUnary(methodHandler: (request: unknown, metadata: Metadata, call: UnaryCall) => Promise<unknown>): (call: UnaryCall, callback: UnaryCallback) => void {
    if (this.hooked) return super.createUnaryServiceMethod(methodHandler) as (call: UnaryCall, callback: UnaryCallback) => void;
    return (call: UnaryCall, callback: UnaryCallback) => {
      methodHandler(call.request, call.metadata, call).then(
        (result) => {
          if (!isObservable(result)) return callback(null, result);
          result.subscribe({ next: (data) => callback(null, data), error: (err: unknown) => callback(err) });
        },
        (err: unknown) => callback(err),
      );
    };
  }
}

const DEBUG_LEVELS = new Set(['debug', 'trace']);

/**
 * Nest's gRPC server. With LOG_LEVEL=debug (or trace) every call it serves
 * is logged with its method and the caller's x-request-id and traceparent,
 * so a request can be followed through every hop; failed calls are logged at
 * warn by GrpcExceptionFilter whatever the level. At other levels no hook is
 * installed and unary calls take the short path above. With `accessLog` (a public
 * API, as REST's access line is), every successful unary call but a health check
 * also gets a line at info when it ends: method, code OK, responseTime (ms) and the
 * request's ids. A grpc-timeout too long for a timer is served as the longest one
 * (clampGrpcServerTimeouts).
 */
export function grpcServerStrategy(options: GrpcOptions, logLevel = process.env['LOG_LEVEL'] ?? 'info', { accessLog = false } = {}): CustomStrategy {
  clampGrpcServerTimeouts();
  const server = new LeanUnaryServerGrpc(options.options);
  if (accessLog) server.accessLog = new Logger('gRPC');
  if (DEBUG_LEVELS.has(logLevel)) {
    const logger = new Logger('gRPC');
    server.setOnProcessingStartHook((_transport, context, done) => {
      const call = context as { metadata?: Metadata; path?: string } | undefined;
      logger.debug({ method: call?.path, ...requestLogFields(grpcRequestContext(call?.metadata)) }, 'gRPC call');
      return done();
    });
  }
  return { strategy: server };
}
