import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { noteRequestFailure, pinoOptions, requestLoggingMiddleware } from './logger';
import { RequestCancellation, bindRequestContext, requestContextOf } from './request-context';

type Line = Record<string, unknown> & { req?: { headers: Record<string, string> }; res?: { statusCode: number } };

/** The context of every request the test servers saw, in order. */
const contexts: ReturnType<typeof requestContextOf>[] = [];

/** A server whose handler answers with the status in the path, behind the request logger. */
async function serve(level: string): Promise<{ server: Server; url: string; lines: Line[] }> {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const logger = pino({ ...pinoOptions('test'), level }, stream);
  const log = requestLoggingMiddleware(logger);
  const server = createServer((req, res) => {
    bindRequestContext(req, { requestId: String(req.headers['x-request-id']), traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', cancellation: new RequestCancellation() });
    contexts.push(requestContextOf(req));
    log(req, res, () => {
      res.statusCode = Number(req.url?.split('/')[2]?.split('?')[0] ?? 200);
      // What the gateway's exception filter notes for a failed request.
      if (res.statusCode === 503) noteRequestFailure(req, { code: 'UNAVAILABLE', message: 'no inference replica is SERVING' });
      // /hang never answers: the client gives up and the line says so.
      if (req.url !== '/hang') res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, lines };
}

function get(url: string, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { headers: { 'x-request-id': `req-${path}`, authorization: 'Bearer secret', 'proxy-authorization': 'Bearer secret', 'x-api-key': 'secret' } }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('request logging', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('logs every request at info in one cheap line, with its id and no credentials', async () => {
    const s = await serve('info');
    server = s.server;
    await get(s.url, '/status/200');
    await get(s.url, '/healthz');
    await new Promise((r) => setTimeout(r, 10));
    expect(s.lines).toHaveLength(1);
    expect(s.lines[0]).toMatchObject({
      level: 30,
      msg: 'request completed',
      requestId: 'req-/status/200',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      method: 'GET',
      url: '/status/200',
      statusCode: 200,
    });
    expect(s.lines[0].responseTime).toEqual(expect.any(Number));
    // No header objects on a success line, so no credential can reach it.
    expect(s.lines[0].req).toBeUndefined();
    expect(JSON.stringify(s.lines[0])).not.toContain('secret');
  });

  it('logs a failed request with its headers, credentials redacted', async () => {
    const s = await serve('info');
    server = s.server;
    await get(s.url, '/status/404');
    await new Promise((r) => setTimeout(r, 10));
    expect(s.lines[0]).toMatchObject({ level: 40, res: { statusCode: 404 } });
    expect(s.lines[0].req?.headers.authorization).toBe('[redacted]');
    // Every header that carries a credential, a proxy's included.
    expect(JSON.stringify(s.lines[0])).not.toContain('secret');
  });

  it('redacts a credential sent in the query string, on a success line and a failure line', async () => {
    const s = await serve('info');
    server = s.server;
    await get(s.url, '/status/200?api_key=secret&page=2');
    await get(s.url, '/status/401?key=secret');
    await get(s.url, '/status/401?access_token=secret#x');
    await new Promise((r) => setTimeout(r, 10));
    // (The test's x-request-id repeats the path; a real one never holds the URL.)
    expect(s.lines.map((l) => l.url ?? l.req?.url)).toEqual(['/status/200?api_key=[redacted]&page=2', '/status/401?key=[redacted]', '/status/401?access_token=[redacted]']);
  });

  it('says why a request failed, when the handler noted it', async () => {
    const s = await serve('info');
    server = s.server;
    await get(s.url, '/status/503');
    await new Promise((r) => setTimeout(r, 10));
    expect(s.lines[0]).toMatchObject({ level: 50, res: { statusCode: 503 }, error: { code: 'UNAVAILABLE', message: 'no inference replica is SERVING' } });
  });

  it('keeps client errors at warn and server errors at error when info is off', async () => {
    const s = await serve('warn');
    server = s.server;
    for (const status of [200, 404, 503]) await get(s.url, `/status/${status}`);
    await new Promise((r) => setTimeout(r, 10));
    expect(s.lines.map((l) => [l.level, l.res?.statusCode, l.msg])).toEqual([
      [40, 404, 'request completed'],
      [50, 503, 'request errored'],
    ]);
  });

  it('logs a request the client gave up on as aborted, once', async () => {
    const s = await serve('info');
    server = s.server;
    await new Promise<void>((resolve) => {
      const req = request(`${s.url}/hang`, { headers: { 'x-request-id': 'req-hang' } });
      req.on('error', () => resolve());
      req.end();
      setTimeout(() => req.destroy(), 50);
    });
    await get(s.url, '/status/200');
    await new Promise((r) => setTimeout(r, 50));
    expect(s.lines.map((l) => [l.requestId, l.msg])).toEqual([
      ['req-hang', 'request aborted'],
      ['req-/status/200', 'request completed'],
    ]);
  });

  it("fires a request's cancellation when its client goes away before the answer, at any log level", async () => {
    for (const level of ['info', 'silent']) {
      const s = await serve(level);
      contexts.length = 0;
      await new Promise<void>((resolve) => {
        const req = request(`${s.url}/hang`);
        req.on('error', () => resolve());
        req.end();
        setTimeout(() => req.destroy(), 50);
      });
      await get(s.url, '/status/200');
      await new Promise((r) => setTimeout(r, 50));
      s.server.close();
      expect(contexts.map((c) => c.cancellation?.aborted), level).toEqual([true, false]);
    }
  });
});
