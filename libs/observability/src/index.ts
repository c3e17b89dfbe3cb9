export {
  type RequestContext,
  RequestCancellation,
  requestContextFrom,
  grpcRequestContext,
  bindRequestContext,
  requestContextOf,
  requestLogFields,
  REQUEST_ID_HEADER,
  TRACEPARENT_HEADER,
} from './request-context';
export { createLogger, loggerModule, noteRequestFailure, pinoOptions, requestLoggingMiddleware } from './logger';
export { grpcServerStrategy } from './grpc-server';
export { GrpcExceptionFilter, grpcFailure, grpcMethodOf } from './grpc-exception.filter';
export { GrpcHealthController } from './grpc-health.controller';
export { withTimeout } from './with-timeout';
export { installLeanAsyncResourceBind } from './async-resource-bind';
export { createMetricsRegistry, UNKNOWN_MODEL } from './metrics-registry';
export { startSidecarHttp, serverAddress, type SidecarHttpOptions, type ReadinessReport } from './sidecar-http';
export { envSchema, loadConfig } from './config';
export { bindWithRetry, drainGrpcServer, drainHttpServer, onShutdownSignals, sleep } from './lifecycle';
export {
  startTracing,
  stopTracing,
  tracingEnabled,
  startSpan,
  endSpan,
  inSpan,
  spanContextFrom,
  traceparentOf,
  SpanKind,
  type Span,
  type SpanContext,
  type SpanOptions,
} from './tracing';
