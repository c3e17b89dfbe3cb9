import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { Metadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { bindRequestContext, grpcRequestContext, requestContextFrom, requestContextOf, requestLogFields } from './request-context';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('request context', () => {
  it('keeps a valid request id and traceparent', () => {
    expect(requestContextFrom('req-1', TP)).toEqual({ requestId: 'req-1', traceparent: TP });
  });

  it('mints an id and drops a malformed traceparent', () => {
    const ctx = requestContextFrom('bad id with spaces', 'not-a-trace');
    expect(ctx.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ctx.traceparent).toBeUndefined();
  });

  it('reads a gRPC call context from its metadata', () => {
    const metadata = new Metadata();
    metadata.set('x-request-id', 'req-2');
    metadata.set('traceparent', TP);
    expect(grpcRequestContext(metadata)).toEqual({ requestId: 'req-2', traceparent: TP });
    expect(grpcRequestContext(undefined).requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps the context bound to an HTTP request, and reads the headers of one with none bound', () => {
    const bound = new IncomingMessage(new Socket());
    bindRequestContext(bound, { requestId: 'req-3' });
    expect(requestContextOf(bound)).toEqual({ requestId: 'req-3' });
    const unbound = new IncomingMessage(new Socket());
    unbound.headers = { 'x-request-id': 'req-4', traceparent: TP };
    expect(requestContextOf(unbound)).toEqual({ requestId: 'req-4', traceparent: TP });
  });

  it('gives the log fields of a context', () => {
    expect(requestLogFields({ requestId: 'a' })).toEqual({ requestId: 'a' });
    expect(requestLogFields({ requestId: 'a', traceparent: TP })).toEqual({ requestId: 'a', traceparent: TP });
    expect(requestLogFields(undefined)).toEqual({});
  });
});
