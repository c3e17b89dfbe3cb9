import { ErrorCode, ServableError } from '@servable/contracts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditService } from '../audit/audit.service';
import type { Database } from '../database/database';
import { TestDatabase } from '../testing/test-database';
import { ApiKeyService, actorOf, extractApiKey, hasRole } from './api-key.service';

async function codeOf(p: Promise<unknown>): Promise<ErrorCode> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ServableError);
  return (err as ServableError).code;
}

describe('API keys', () => {
  let testDb: TestDatabase;
  let db: Database;
  let keys: ApiKeyService;

  beforeAll(async () => {
    testDb = await TestDatabase.create();
    db = await testDb.open();
    keys = new ApiKeyService(db.dataSource, new AuditService(db.dataSource), { cacheTtlMs: 0 });
  });
  afterAll(async () => {
    await testDb?.drop();
  });

  it('creates a first admin key once, and returns its plaintext only then', async () => {
    const first = await keys.bootstrap();
    expect(first.createdKey).toMatch(/^svb_/);
    expect(await keys.bootstrap()).toEqual({});
    expect((await keys.verify(first.createdKey)).role).toBe('admin');
  });

  it('registers SERVABLE_ADMIN_KEY as admin, idempotently', async () => {
    const envKey = 'env-admin-key-0123456789';
    expect(await keys.bootstrap(envKey)).toEqual({});
    expect(await keys.bootstrap(envKey)).toEqual({});
    expect((await keys.verify(envKey)).name).toBe('SERVABLE_ADMIN_KEY');
    expect((await keys.list()).filter((k) => k.name === 'SERVABLE_ADMIN_KEY')).toHaveLength(1);
  });

  it('stores a hash, never the key', async () => {
    const { key } = await keys.create({ name: 'ci', role: 'client' }, 'key:1:admin');
    const rows = await db.dataSource.query(`SELECT * FROM api_key`);
    const audit = await db.dataSource.query(`SELECT * FROM audit_event`);
    expect(JSON.stringify(rows)).not.toContain(key);
    expect(JSON.stringify(audit)).not.toContain(key);
    expect(JSON.stringify(rows)).not.toContain(key.slice(12));
  });

  it('holds roles admin > operator > client', async () => {
    const client = (await keys.create({ name: 'app', role: 'client' }, 'key:1:admin')).key;
    const operator = (await keys.create({ name: 'ops', role: 'operator' }, 'key:1:admin')).key;
    expect((await keys.authorize(client, 'client')).role).toBe('client');
    expect(await codeOf(keys.authorize(client, 'operator'))).toBe(ErrorCode.PERMISSION_DENIED);
    expect((await keys.authorize(operator, 'operator')).role).toBe('operator');
    expect(await codeOf(keys.authorize(operator, 'admin'))).toBe(ErrorCode.PERMISSION_DENIED);
    expect(await codeOf(keys.authorize(undefined, 'client'))).toBe(ErrorCode.UNAUTHENTICATED);
    expect(await codeOf(keys.authorize('svb_wrong', 'client'))).toBe(ErrorCode.UNAUTHENTICATED);
    expect(hasRole('admin', 'operator')).toBe(true);
    expect(hasRole('client', 'admin')).toBe(false);
  });

  it('refuses a revoked key, and audits creation and revocation', async () => {
    const { key, apiKey } = await keys.create({ name: 'temp', role: 'operator' }, 'key:1:admin');
    await keys.revoke(apiKey.id, 'key:1:admin');
    expect(await codeOf(keys.verify(key))).toBe(ErrorCode.UNAUTHENTICATED);
    const audit = await db.dataSource.query(`SELECT action, actor FROM audit_event WHERE target = $1 ORDER BY id`, [`api_key:${apiKey.id}`]);
    expect(audit).toEqual([
      { action: 'api_key.create', actor: 'key:1:admin' },
      { action: 'api_key.revoke', actor: 'key:1:admin' },
    ]);
    expect(actorOf(apiKey)).toBe(`key:${apiKey.id}:temp`);
  });

  it('refuses a name of only spaces', async () => {
    expect(await codeOf(keys.create({ name: '   ', role: 'client' }, 'key:1:admin'))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(await codeOf(keys.create({ name: '\t\n', role: 'client' }, 'key:1:admin'))).toBe(ErrorCode.INVALID_ARGUMENT);
  });

  it('answers an id beyond the int32 column as an unknown key', async () => {
    expect(await codeOf(keys.revoke(99_999_999_999, 'key:1:admin'))).toBe(ErrorCode.NOT_FOUND);
  });

  it('keeps the last active admin key, even against two revocations at once', async () => {
    const admins = async () => (await keys.list()).filter((k) => k.role === 'admin' && !k.revokedAt);
    // The bootstrap tests left two admin keys: revoking both at once, each sees the other still
    // active unless the second waits for the first to commit.
    const ids = (await admins()).map((k) => k.id);
    expect(ids).toHaveLength(2);
    const results = await Promise.allSettled(ids.map((id) => keys.revoke(id, 'key:1:admin')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
    expect(refused).toMatchObject({ code: ErrorCode.FAILED_PRECONDITION, message: expect.stringMatching(/is the last active admin key/) });
    const [last] = await admins();
    expect(last).toBeDefined();
    expect(await codeOf(keys.revoke(last.id, actorOf(last)))).toBe(ErrorCode.FAILED_PRECONDITION);
    expect((await admins()).map((k) => k.id)).toEqual([last.id]);
    // With another admin key it can go.
    await keys.create({ name: 'successor', role: 'admin' }, actorOf(last));
    expect((await keys.revoke(last.id, actorOf(last))).revokedAt).not.toBeNull();
  });

  it('looks a key up once for all the requests that need it at the same time', async () => {
    const { key } = await keys.create({ name: 'busy', role: 'client' }, 'key:1:admin');
    const fresh = new ApiKeyService(db.dataSource, new AuditService(db.dataSource));
    const repository = db.dataSource.getRepository.bind(db.dataSource);
    let queries = 0;
    const spy = vi.spyOn(db.dataSource, 'getRepository').mockImplementation(((target: never) => {
      queries++;
      return repository(target);
    }) as typeof db.dataSource.getRepository);
    try {
      const views = await Promise.all(Array.from({ length: 32 }, () => fresh.verify(key)));
      expect(new Set(views.map((v) => v.name))).toEqual(new Set(['busy']));
      expect(queries).toBe(1);
      // A bad key fails every request that shares its lookup, and is not remembered.
      const codes = await Promise.all(Array.from({ length: 4 }, () => codeOf(fresh.verify('svb_not_a_key'))));
      expect(codes).toEqual(Array(4).fill(ErrorCode.UNAUTHENTICATED));
      expect(queries).toBe(2);
      // A revocation (clearCache) while a lookup is out: its answer is not kept, the next request asks again.
      fresh.clearCache();
      const during = fresh.verify(key);
      fresh.clearCache();
      await during;
      await fresh.verify(key);
      expect(queries).toBe(4);
      await fresh.verify(key);
      expect(queries).toBe(4);
    } finally {
      spy.mockRestore();
    }
  });

  it('takes a key it verified lately while the database is unreachable, refused or hung, and answers 503 for any other', async () => {
    const { key: known } = await keys.create({ name: 'known', role: 'client' }, 'key:1:admin');
    const { key: unseen } = await keys.create({ name: 'unseen', role: 'client' }, 'key:1:admin');
    const { key: revoked, apiKey: revokedView } = await keys.create({ name: 'revoked', role: 'client' }, 'key:1:admin');
    // An expired cache entry is not enough by itself: every request asks the database while it answers.
    const store = new ApiKeyService(db.dataSource, new AuditService(db.dataSource), { cacheTtlMs: 1, lookupTimeoutMs: 50 });
    await store.verify(known);
    await store.verify(revoked);
    await keys.revoke(revokedView.id, 'key:1:admin');
    store.clearCache(); // what the revocation's change does on every replica
    await store.verify(known);
    await new Promise((r) => setTimeout(r, 5));
    const repository = db.dataSource.getRepository.bind(db.dataSource);
    const outage = (findOneBy: () => Promise<never>) =>
      vi.spyOn(db.dataSource, 'getRepository').mockImplementation(((target: never) => ({ ...repository(target), findOneBy })) as typeof db.dataSource.getRepository);
    for (const failing of [
      () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })),
      () => new Promise<never>(() => undefined), // a database that never answers
    ]) {
      const spy = outage(failing);
      try {
        expect((await store.verify(known)).name).toBe('known');
        expect(await codeOf(store.verify(unseen))).toBe(ErrorCode.UNAVAILABLE);
        expect(await codeOf(store.verify(revoked))).toBe(ErrorCode.UNAVAILABLE);
      } finally {
        spy.mockRestore();
      }
    }
    // Back: a revoked key is refused outright again.
    expect(await codeOf(store.verify(revoked))).toBe(ErrorCode.UNAUTHENTICATED);
  });

  it('reads the key from Authorization: Bearer or x-api-key', () => {
    expect(extractApiKey({ authorization: 'Bearer svb_abc' })).toBe('svb_abc');
    expect(extractApiKey({ 'x-api-key': 'svb_def' })).toBe('svb_def');
    expect(extractApiKey({ authorization: 'Basic Zm9v' })).toBeUndefined();
    expect(extractApiKey({})).toBeUndefined();
  });
});
