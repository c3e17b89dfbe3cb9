import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
  type Attributes,
  type Link,
  type Span,
  type SpanContext,
  type TimeInput,
} from '@opentelemetry/api';
import type { RequestContext } from './request-context';

export { SpanKind, type Span, type SpanContext };

const TRACER = 'servable';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

interface TracingState {
  shutdown(): Promise<void>;
}

let state: TracingState | undefined;

/**
 * Starts OpenTelemetry tracing for this process when OTEL_EXPORTER_OTLP_ENDPOINT
 * (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, and does nothing otherwise: with it
 * unset no provider is registered, no context manager is installed and every span helper
 * below returns at its first line, so a process that does not trace pays nothing.
 *
 * The rest is the standard OTEL_* configuration read by the SDK itself:
 * OTEL_EXPORTER_OTLP_PROTOCOL (`http/protobuf`, the default, or `http/json`),
 * OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
 * OTEL_TRACES_SAMPLER(_ARG), OTEL_BSP_*. No auto-instrumentation patches http or
 * gRPC: the spans are the ones Servable makes where it knows what a request is.
 */
export async function startTracing(component: string): Promise<boolean> {
  // The SDK and the exporters read process.env themselves, so this does too: one source.
  const env = process.env;
  if (state) return true;
  const endpoint = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  if (!endpoint || env['OTEL_SDK_DISABLED'] === 'true' || env['OTEL_TRACES_EXPORTER'] === 'none') return false;
  const protocol = env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] || env['OTEL_EXPORTER_OTLP_PROTOCOL'] || 'http/protobuf';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported: use http/protobuf or http/json (OTLP over HTTP)`);
  }
  // The SDK is loaded only when tracing is on (it is about 10 MB of every process's memory), and
  // of the two exporters only the one the protocol names. They read the endpoint, headers and
  // timeout from the same OTEL_* variables.
  const [{ OTLPTraceExporter }, { defaultResource, detectResources, envDetector, resourceFromAttributes }, { BatchSpanProcessor, NodeTracerProvider }] = await Promise.all([
    protocol === 'http/json' ? import('@opentelemetry/exporter-trace-otlp-http') : import('@opentelemetry/exporter-trace-otlp-proto'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-node'),
  ]);
  if (state) return true;
  const exporter = new OTLPTraceExporter();
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': `servable-${component}`, 'service.namespace': 'servable' }))
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the defaults above.
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  // Parents are passed explicitly (spans never become "active"), so no context manager or propagator is installed.
  provider.register({ contextManager: null, propagator: null });
  state = { shutdown: () => provider.shutdown() };
  return true;
}

/** Flushes spans not yet exported; call on shutdown, before the process exits. */
export async function stopTracing(): Promise<void> {
  const current = state;
  if (!current) return;
  state = undefined;
  await current.shutdown().catch(() => undefined);
  // Unregisters the provider, so a later startTracing (tests) can register its own.
  trace.disable();
}

export function tracingEnabled(): boolean {
  return state !== undefined;
}

/** The remote parent a W3C traceparent names, or undefined for none or a malformed one. */
export function spanContextFrom(traceparent: string | undefined): SpanContext | undefined {
  const m = traceparent ? TRACEPARENT.exec(traceparent) : null;
  if (!m || /^0+$/.test(m[1]) || /^0+$/.test(m[2])) return undefined;
  return { traceId: m[1], spanId: m[2], traceFlags: parseInt(m[3], 16) & TraceFlags.SAMPLED, isRemote: true };
}

export function traceparentOf(span: SpanContext): string {
  return `00-${span.traceId}-${span.spanId}-0${span.traceFlags & TraceFlags.SAMPLED}`;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: Link[];
  startTime?: TimeInput;
  /** The parent: a span of this process, else the request's traceparent, else none (a new trace). */
  parent?: Span | SpanContext;
}

/**
 * A span under the request's trace, and the request context to hand to the next
 * hop (its traceparent names the new span). Undefined when tracing is off.
 */
export function startSpan(name: string, request: RequestContext | undefined, options: SpanOptions = {}): { span: Span; context: RequestContext } | undefined {
  if (!state) return undefined;
  const parent = options.parent
    ? 'spanContext' in options.parent
      ? options.parent.spanContext()
      : options.parent
    : spanContextFrom(request?.traceparent);
  const ctx = parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
  const span = trace
    .getTracer(TRACER)
    .startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, links: options.links, startTime: options.startTime }, ctx);
  const next: RequestContext = { requestId: request?.requestId ?? '', traceparent: traceparentOf(span.spanContext()) };
  return { span, context: request ? { ...request, traceparent: next.traceparent } : next };
}

/** Ends a span, marking it failed with the error's code and message when there is one. */
/**
 * The codes a server answers for its own failure: OpenTelemetry's gRPC conventions for server
 * spans, plus RESOURCE_EXHAUSTED, which here means too little capacity (the alert rules count it
 * as the platform's too). Anything else, a bad argument or an unknown model, is the caller's, and
 * leaves the server span's status unset, as a 4xx does on an HTTP server span.
 */
const SERVER_FAULTS = new Set(['UNKNOWN', 'DEADLINE_EXCEEDED', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'RESOURCE_EXHAUSTED']);

export function endSpan(span: Span | undefined, error?: unknown, endTime?: TimeInput): void {
  if (!span) return;
  if (error !== undefined) {
    const e = error as { code?: unknown; message?: unknown };
    if (typeof e.code === 'string') span.setAttribute('servable.error_code', e.code);
    // A raw grpc-js error (a client span's failed attempt) carries the numeric status.
    if (typeof e.code === 'number') span.setAttribute('rpc.grpc.status_code', e.code);
    // The SDK's span knows its kind; the API's type does not say so.
    const server = (span as Partial<{ kind: SpanKind }>).kind === SpanKind.SERVER;
    if (!server || typeof e.code !== 'string' || SERVER_FAULTS.has(e.code)) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: typeof e.message === 'string' ? e.message : String(error) });
    }
  }
  span.end(endTime);
}

/** Runs fn inside a span that ends with fn's outcome; without tracing, just runs fn. */
export async function inSpan<T>(
  name: string,
  request: RequestContext | undefined,
  options: SpanOptions,
  fn: (context: RequestContext | undefined, span?: Span) => Promise<T>,
): Promise<T> {
  const started = startSpan(name, request, options);
  if (!started) return fn(request);
  try {
    const result = await fn(started.context, started.span);
    endSpan(started.span);
    return result;
  } catch (err) {
    endSpan(started.span, err);
    throw err;
  }
}
