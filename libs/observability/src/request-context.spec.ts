import { describe, expect, it } from 'vitest';
import { currentRequestContext, requestContextFrom, requestLogFields, runWithRequestContext } from './request-context';

describe('request context', () => {
  it('keeps a valid request id and traceparent', () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(requestContextFrom('req-1', tp)).toEqual({ requestId: 'req-1', traceparent: tp });
  });

  it('mints an id and drops a malformed traceparent', () => {
    const ctx = requestContextFrom('bad id with spaces', 'not-a-trace');
    expect(ctx.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ctx.traceparent).toBeUndefined();
  });

  it('exposes the context to log lines across awaits', async () => {
    await runWithRequestContext({ requestId: 'abc' }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      expect(currentRequestContext()?.requestId).toBe('abc');
      expect(requestLogFields()).toEqual({ requestId: 'abc' });
    });
    expect(requestLogFields()).toEqual({});
  });
});
