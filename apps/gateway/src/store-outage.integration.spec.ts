import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '@servable/contracts';
import { startTestGateway, type TestGateway } from './testing/test-gateway';

const ADMIN_KEY = 'sk_outage_admin_0123456789abcdef';
/** ApiKeyService's default: a key verified this long ago is asked for again. */
const KEY_CACHE_MS = 5_000;

interface Pool {
  connect(callback?: (err: Error | undefined) => void): unknown;
}

/**
 * The control plane's database going away under a running gateway (both PostgreSQL and the
 * embedded PGlite): every new connection from its pool is refused, as a stopped server refuses
 * it, or never answers, as a hung one does.
 */
describe('a gateway whose database is unreachable (fake data plane)', () => {
  let testGateway: TestGateway;
  let url: string;
  let clientKey: string;

  beforeAll(async () => {
    testGateway = await startTestGateway({ SERVABLE_ADMIN_KEY: ADMIN_KEY });
    url = testGateway.url;
    clientKey = await createKey('in use');
  });
  afterAll(() => testGateway?.close());

  const call = (method: string, path: string, key: string, body?: unknown) =>
    fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: body === undefined ? undefined : JSON.stringify(body) });
  /** A new client key. Its creation is a control-plane change, which empties the key cache when it arrives (LISTEN, or the 500 ms poll): it has arrived when this returns. */
  const createKey = async (name: string) => {
    const { key } = (await (await call('POST', '/admin/api/api-keys', ADMIN_KEY, { name, role: 'client' })).json()) as { key: string };
    await new Promise((r) => setTimeout(r, 1_500));
    return key;
  };
  const classify = (key: string) => call('POST', '/v1/models/spam:classify', key, { texts: ['free money now'] });

  /** Every query from now on fails as `how` says, until the returned restore is called. */
  function outage(how: 'refused' | 'hung'): () => void {
    const pool = (testGateway.gateway.controlPlane.db.dataSource.driver as unknown as { master: Pool }).master;
    // A hung connection attempt fails once the outage ends (its socket is reset), as a real one would in the end.
    const hung: Array<() => void> = [];
    const spy = vi.spyOn(pool, 'connect').mockImplementation((callback?: (err: Error | undefined) => void) => {
      const fail = (message: string, code: string) => Object.assign(new Error(message), { code });
      if (how === 'hung') {
        return new Promise<never>((_, reject) => {
          hung.push(() => (callback ? callback(fail('read ECONNRESET', 'ECONNRESET')) : reject(fail('read ECONNRESET', 'ECONNRESET'))));
        });
      }
      const err = fail('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED');
      if (callback) return void setImmediate(() => callback(err));
      return Promise.reject(err);
    });
    return () => {
      spy.mockRestore();
      for (const reset of hung) reset();
    };
  }

  it.each(['refused', 'hung'] as const)(
    'keeps serving inference to keys it verified lately (%s), answers 503 for the rest and the admin API, and stays ready',
    async (how) => {
      const unusedKey = await createKey(`not used before the outage (${how})`);
      // Verified once, then old enough that the gateway must ask the database again.
      expect((await classify(clientKey)).status).toBe(200);
      expect((await call('GET', '/admin/api/models', ADMIN_KEY)).status).toBe(200);
      await new Promise((r) => setTimeout(r, KEY_CACHE_MS + 200));
      const restore = outage(how);
      try {
        const served = await classify(clientKey);
        expect(served.status).toBe(200);
        expect(((await served.json()) as { predictions: unknown[] }).predictions).toHaveLength(1);

        const t0 = Date.now();
        const unknown = await classify(unusedKey);
        // A hung database is given up on in the lookup's timeout (2 s), well within the request's 5 s.
        expect(Date.now() - t0).toBeLessThan(4_000);
        expect(unknown.status).toBe(503);
        expect(unknown.headers.get('retry-after')).toBe('1');
        expect(await unknown.json()).toEqual({ error: "the API key cannot be checked now: the control plane's database is unreachable; retry shortly", code: ErrorCode.UNAVAILABLE });

        if (how === 'refused') {
          const admin = await call('GET', '/admin/api/models', ADMIN_KEY);
          expect(admin.status).toBe(503);
          expect(((await admin.json()) as { code: string }).code).toBe(ErrorCode.UNAVAILABLE);
        }
        // Ready: every gateway shares the database, and it serves without it.
        const ready = await fetch(`${url}/readyz`);
        expect(ready.status).toBe(200);
        expect(((await ready.json()) as { checks: { store: { up: boolean } } }).checks.store.up).toBe(false);
      } finally {
        restore();
      }
      expect((await call('GET', '/admin/api/models', ADMIN_KEY)).status).toBe(200);
      expect((await classify(unusedKey)).status).toBe(200);
    },
    30_000,
  );
});
