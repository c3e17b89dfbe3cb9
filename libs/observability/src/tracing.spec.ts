import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SpanKind, endSpan, spanContextFrom, startSpan, startTracing, stopTracing, traceparentOf, tracingEnabled } from './tracing';

const CALLER = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** A stand-in OTLP/HTTP collector: records each export's path, headers and body. */
async function collector(): Promise<{ url: string; received: Array<{ path?: string; headers: IncomingHttpHeaders; body: Buffer }>; server: Server }> {
  const received: Array<{ path?: string; headers: IncomingHttpHeaders; body: Buffer }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server };
}

const OTEL_VARIABLES = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_SERVICE_NAME'];

/** The SDK reads process.env itself: set the variables there for one test. */
function setEnv(vars: Record<string, string>): void {
  for (const [k, v] of Object.entries(vars)) process.env[k] = v;
}

describe('tracing', () => {
  let server: Server | undefined;
  const saved = Object.fromEntries(OTEL_VARIABLES.map((k) => [k, process.env[k]]));
  afterEach(async () => {
    await stopTracing();
    for (const k of OTEL_VARIABLES) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
  });

  it('is off without an endpoint: no provider, and no span is made', async () => {
    for (const k of OTEL_VARIABLES) delete process.env[k];
    expect(await startTracing('gateway')).toBe(false);
    expect(tracingEnabled()).toBe(false);
    expect(startSpan('predict spam', { requestId: 'r1', traceparent: CALLER })).toBeUndefined();
  });

  it('refuses OTLP over gRPC at start rather than dropping spans later', async () => {
    setEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    await expect(startTracing('gateway')).rejects.toThrow(/http\/protobuf or http\/json/);
    expect(tracingEnabled()).toBe(false);
  });

  it('exports OTLP/JSON with the service name, continuing the caller\'s trace', async () => {
    const otlp = await collector();
    server = otlp.server;
    setEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    expect(await startTracing('gateway')).toBe(true);
    const traced = startSpan('predict spam', { requestId: 'r1', traceparent: CALLER }, { kind: SpanKind.SERVER })!;
    // The next hop gets a traceparent of the same trace that names the new span.
    expect(traced.context.requestId).toBe('r1');
    expect(traced.context.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(traced.context.traceparent).not.toBe(CALLER);
    endSpan(traced.span, Object.assign(new Error('queue full'), { code: 'RESOURCE_EXHAUSTED' }));
    await stopTracing(); // flushes

    expect(otlp.received).toHaveLength(1);
    const { path, headers, body } = otlp.received[0];
    expect(path).toBe('/v1/traces');
    expect(headers['content-type']).toMatch(/^application\/json/);
    const resourceSpans = JSON.parse(body.toString()).resourceSpans[0];
    expect(resourceSpans.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'servable-gateway' } });
    const span = resourceSpans.scopeSpans[0].spans[0];
    expect(span).toMatchObject({ name: 'predict spam', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentSpanId: '00f067aa0ba902b7', kind: 2 });
    expect(span.status).toMatchObject({ code: 2, message: 'queue full' });
    expect(span.attributes).toContainEqual({ key: 'servable.error_code', value: { stringValue: 'RESOURCE_EXHAUSTED' } });
  });

  it("marks a server span ERROR for the server's faults only, a client span for any failure", async () => {
    const otlp = await collector();
    server = otlp.server;
    setEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    expect(await startTracing('gateway')).toBe(true);
    const fail = (name: string, kind: SpanKind, code: string) => endSpan(startSpan(name, undefined, { kind })!.span, Object.assign(new Error(code), { code }));
    fail('unknown model', SpanKind.SERVER, 'NOT_FOUND');
    fail('bad input', SpanKind.SERVER, 'INVALID_ARGUMENT');
    fail('down', SpanKind.SERVER, 'UNAVAILABLE');
    fail('call that failed', SpanKind.CLIENT, 'NOT_FOUND');
    await stopTracing();
    const spans = otlp.received.flatMap((r) => JSON.parse(r.body.toString()).resourceSpans[0].scopeSpans[0].spans) as Array<{ name: string; status: { code?: number } }>;
    const status = Object.fromEntries(spans.map((s) => [s.name, s.status.code ?? 0]));
    expect(status).toEqual({ 'unknown model': 0, 'bad input': 0, down: 2, 'call that failed': 2 });
  });

  it('exports protobuf by default, and OTEL_SERVICE_NAME wins over the default name', async () => {
    const otlp = await collector();
    server = otlp.server;
    setEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_SERVICE_NAME: 'inference-eu' });
    expect(await startTracing('inference')).toBe(true);
    endSpan(startSpan('Predict', undefined)?.span);
    await stopTracing();
    expect(otlp.received).toHaveLength(1);
    expect(otlp.received[0].headers['content-type']).toBe('application/x-protobuf');
    expect(otlp.received[0].body.includes(Buffer.from('inference-eu'))).toBe(true);
  });

  it('reads and writes W3C traceparent, refusing malformed and all-zero ids', () => {
    const parent = spanContextFrom(CALLER)!;
    expect(parent).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true });
    expect(traceparentOf(parent)).toBe(CALLER);
    expect(spanContextFrom('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeUndefined();
    expect(spanContextFrom('zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBeUndefined();
    expect(spanContextFrom(undefined)).toBeUndefined();
  });
});
