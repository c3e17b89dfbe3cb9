import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { ErrorCode } from '@servable/contracts';
import { ERROR_CODE_TRAILER, RETRY_AFTER_TRAILER, fromGrpcError, loadGrpcObject, type grpcHealthV1 } from '@servable/contracts/grpc';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../testing/fake-data-plane';
import { GrpcUnaryChannel, type UnaryChannelOptions, type UnaryMethod } from './grpc-unary-channel';

type Health = grpc.ServiceClientConstructor;
const Health = (loadGrpcObject(['health']).grpc as grpc.GrpcObject).health as grpc.GrpcObject;
const definition = (Health.v1 as grpc.GrpcObject).Health as Health;
const check: UnaryMethod = definition.service.Check;

interface Seen {
  service: string;
  requestId?: string;
  timeoutMs: number;
  cancelled: boolean;
  server: string;
}

/**
 * A grpc-js health server whose answer depends on the service name asked for: `ok` answers SERVING,
 * `slow` the same after 300 ms, `hang` never, and `full` fails as a full queue does, with the taxonomy's trailers.
 */
async function healthServer(name: string, port = 0): Promise<{ server: grpc.Server; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = new grpc.Server();
  server.addService(definition.service, {
    check(call: grpc.ServerUnaryCall<grpcHealthV1.HealthCheckRequest, grpcHealthV1.HealthCheckResponse>, callback: grpc.sendUnaryData<grpcHealthV1.HealthCheckResponse>) {
      const entry: Seen = {
        service: call.request.service,
        requestId: call.metadata.get('x-request-id')[0] as string | undefined,
        timeoutMs: Number(call.getDeadline()) - Date.now(),
        cancelled: false,
        server: name,
      };
      seen.push(entry);
      call.on('cancelled', () => (entry.cancelled = true));
      if (call.request.service === 'full') {
        const trailer = new grpc.Metadata();
        trailer.set(ERROR_CODE_TRAILER, ErrorCode.RESOURCE_EXHAUSTED);
        trailer.set(RETRY_AFTER_TRAILER, '7');
        return callback({ code: grpc.status.UNAVAILABLE, details: 'queue of "spam" v2 is full (100% of 512 rows)', metadata: trailer });
      }
      if (call.request.service === 'hang') return;
      const answer = () => callback(null, { status: 'SERVING' } as unknown as grpcHealthV1.HealthCheckResponse);
      if (call.request.service === 'slow') setTimeout(answer, 300);
      else answer();
    },
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, port: bound, seen };
}

/** A TCP proxy that can stop forwarding, like a partition: neither side sees its connections close. */
async function partitionProxy(port: number): Promise<{ port: number; frozen: boolean }> {
  const state = { port: 0, frozen: false };
  const sockets: net.Socket[] = [];
  const proxy = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    sockets.push(client, upstream);
    client.on('data', (d) => state.frozen || upstream.write(d));
    upstream.on('data', (d) => state.frozen || client.write(d));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => {
    for (const s of sockets) s.destroy();
    proxy.close();
  });
  state.port = (proxy.address() as net.AddressInfo).port;
  return state;
}

const OPTIONS: UnaryChannelOptions = { maxMessageBytes: 4 * 1024 * 1024, keepaliveMs: 30_000, keepaliveTimeoutMs: 20_000 };
const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

function channelTo(port: number, options: UnaryChannelOptions = OPTIONS): GrpcUnaryChannel {
  const channel = new GrpcUnaryChannel(`127.0.0.1:${port}`, options);
  cleanup.push(() => channel.close());
  return channel;
}

const ask = (channel: GrpcUnaryChannel, service: string, deadlineMs = 5_000, metadata: Record<string, string> = {}) =>
  channel.unary<grpcHealthV1.HealthCheckResponse>(check, { service }, metadata, Date.now() + deadlineMs);

describe('GrpcUnaryChannel', () => {
  it('sends the message, metadata and deadline a grpc-js server reads, and decodes its answer', async () => {
    const { server, port, seen } = await healthServer('a');
    cleanup.push(() => server.forceShutdown());
    const channel = channelTo(port);
    await expect(ask(channel, 'ok', 5_000, { 'x-request-id': 'req-42' })).resolves.toEqual({ status: 'SERVING' });
    // Many calls share one connection, several at once.
    const replies = await Promise.all(Array.from({ length: 20 }, () => ask(channel, 'ok')));
    expect(replies.every((r) => r.status === 'SERVING')).toBe(true);
    expect(seen[0]).toMatchObject({ service: 'ok', requestId: 'req-42' });
    expect(seen[0].timeoutMs).toBeGreaterThan(4_000);
    expect(seen[0].timeoutMs).toBeLessThanOrEqual(5_000);
    // No deadline at all still sends a valid grpc-timeout: its largest, 8 digits of ms (27.7 h).
    await expect(channel.unary(check, { service: 'ok' }, {}, Infinity)).resolves.toEqual({ status: 'SERVING' });
    expect(seen.at(-1)?.timeoutMs).toBeGreaterThan(99_999_999 - 60_000);
  });

  it('rejects a failed call with its code, its message and its trailers, as the taxonomy reads them', async () => {
    const { server, port } = await healthServer('a');
    cleanup.push(() => server.forceShutdown());
    const err = await ask(channelTo(port), 'full').catch((e: grpc.ServiceError) => e);
    expect(err).toMatchObject({ code: grpc.status.UNAVAILABLE, details: 'queue of "spam" v2 is full (100% of 512 rows)' });
    const translated = fromGrpcError(err);
    expect(translated.code).toBe(ErrorCode.RESOURCE_EXHAUSTED);
    expect(translated.retryAfterSeconds).toBe(7);
    expect(translated.message).toBe('queue of "spam" v2 is full (100% of 512 rows)');
  });

  it('ends a call at its deadline with DEADLINE_EXCEEDED and cancels it on the server', async () => {
    const { server, port, seen } = await healthServer('a');
    cleanup.push(() => server.forceShutdown());
    const started = Date.now();
    const err = await ask(channelTo(port), 'hang', 200).catch((e: grpc.ServiceError) => e);
    expect(err).toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect.poll(() => seen[0]?.cancelled).toBe(true);
    // A deadline already past is not sent at all.
    await expect(ask(channelTo(port), 'ok', -1)).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
    expect(seen).toHaveLength(1);
  });

  it('answers UNAVAILABLE when nothing listens, and when the server dies mid-call', async () => {
    const idle = await freePort();
    const refused = (await ask(channelTo(idle), 'ok').catch((e: grpc.ServiceError) => e)) as grpc.ServiceError;
    expect(refused).toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(refused.details).toContain('ECONNREFUSED');

    const { server, port, seen } = await healthServer('a');
    const pending = ask(channelTo(port), 'hang', 10_000).catch((e: grpc.ServiceError) => e);
    await expect.poll(() => seen.length).toBe(1);
    server.forceShutdown();
    const dropped = await pending;
    expect(dropped).toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('lets a call finish on a draining server (GOAWAY) and sends the next one over a new connection', async () => {
    const old = await healthServer('old');
    const channel = channelTo(old.port);
    await ask(channel, 'ok');
    const inFlight = ask(channel, 'slow');
    await expect.poll(() => old.seen.length).toBe(2);
    const drained = new Promise<void>((resolve) => old.server.tryShutdown(() => resolve()));
    const next = await healthServer('new', old.port);
    cleanup.push(() => next.server.forceShutdown());
    // Once the GOAWAY has arrived, calls go to whoever listens on the address now.
    await expect
      .poll(async () => {
        await ask(channel, 'ok');
        return next.seen.length;
      })
      .toBeGreaterThan(0);
    await expect(inFlight).resolves.toEqual({ status: 'SERVING' });
    await drained;
  });

  it('drops a half-open connection when a keepalive ping goes unanswered, failing its calls as UNAVAILABLE before their deadline', async () => {
    const { server, port, seen } = await healthServer('a');
    cleanup.push(() => server.forceShutdown());
    const proxy = await partitionProxy(port);
    const channel = channelTo(proxy.port, { ...OPTIONS, keepaliveMs: 100, keepaliveTimeoutMs: 200 });
    await ask(channel, 'ok');
    const started = Date.now();
    const pending = ask(channel, 'hang', 10_000).catch((e: grpc.ServiceError) => e);
    await expect.poll(() => seen.length).toBe(2);
    proxy.frozen = true;
    const err = await pending;
    expect(err).toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(Date.now() - started).toBeLessThan(5_000);
    // The partition heals: the next call makes a new connection instead of waiting on the dead one.
    proxy.frozen = false;
    await expect(ask(channel, 'ok')).resolves.toEqual({ status: 'SERVING' });
  });

  it('gives up a connection that never completes its handshake at the first deadline, and dials again for the next call', async () => {
    const { server, port } = await healthServer('a');
    cleanup.push(() => server.forceShutdown());
    const proxy = await partitionProxy(port);
    proxy.frozen = true;
    const channel = channelTo(proxy.port);
    await expect(ask(channel, 'ok', 300)).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
    proxy.frozen = false;
    await expect(ask(channel, 'ok')).resolves.toEqual({ status: 'SERVING' });
  });

  it('pings only while calls are out, so servers that refuse pings on idle connections (gRPC C-core) keep it', async () => {
    // A gRPC server written on node:http2, which can count the PINGs it receives.
    let pings = 0;
    const server = http2.createServer();
    server.on('session', (session) => session.on('ping', () => pings++));
    server.on('stream', (stream, headers) => {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        const message = definition.service.Check.responseSerialize({ status: 'SERVING' });
        const frame = Buffer.alloc(5 + message.length);
        frame.writeUInt32BE(message.length, 1);
        frame.set(message, 5);
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        setTimeout(() => stream.end(frame), headers['x-delay'] ? Number(headers['x-delay']) : 0);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => server.close());
    const channel = channelTo((server.address() as net.AddressInfo).port, { ...OPTIONS, keepaliveMs: 50, keepaliveTimeoutMs: 1_000 });
    await expect(ask(channel, 'ok')).resolves.toEqual({ status: 'SERVING' });
    await new Promise((r) => setTimeout(r, 400));
    expect(pings).toBe(0);
    await expect(ask(channel, 'ok', 5_000, { 'x-delay': '400' })).resolves.toEqual({ status: 'SERVING' });
    expect(pings).toBeGreaterThan(0);
  });

  it('refuses messages over the size limit both ways with RESOURCE_EXHAUSTED', async () => {
    const { server, port, seen } = await healthServer('a');
    cleanup.push(() => server.forceShutdown());
    const small = channelTo(port, { ...OPTIONS, maxMessageBytes: 8 });
    await expect(ask(small, 'x'.repeat(100))).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    expect(seen).toHaveLength(0);
    // SERVING is 2 bytes: over a 1-byte limit.
    const tiny = channelTo(port, { ...OPTIONS, maxMessageBytes: 1 });
    await expect(channelTo(port).unary(check, { service: 'ok' }, {}, Date.now() + 5_000)).resolves.toBeTruthy();
    await expect(tiny.unary(check, { service: '' }, {}, Date.now() + 5_000)).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
  });

  it('maps an HTTP answer without grpc-status as the gRPC spec says (404: UNIMPLEMENTED, 503: UNAVAILABLE)', async () => {
    const plain = http2.createServer((req, res) => {
      res.statusCode = req.url?.includes('Check') ? 404 : 503;
      res.end('not here');
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => plain.close());
    const port = (plain.address() as net.AddressInfo).port;
    await expect(ask(channelTo(port), 'ok')).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED, details: 'Received HTTP status code 404' });
    const other: UnaryMethod = { ...check, path: '/grpc.health.v1.Health/Watch' };
    await expect(channelTo(port).unary(other, { service: '' }, {}, Date.now() + 5_000)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('fails calls after close instead of reconnecting', async () => {
    const { server, port } = await healthServer('a');
    cleanup.push(() => server.forceShutdown());
    const channel = channelTo(port);
    await ask(channel, 'ok');
    channel.close();
    await expect(ask(channel, 'ok')).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });
});
