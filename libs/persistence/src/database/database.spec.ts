import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyService } from '../auth/api-key.service';
import { AuditService } from '../audit/audit.service';
import { TestDatabase } from '../testing/test-database';
import type { Database } from './database';

describe('database', () => {
  let testDb: TestDatabase;
  let a: Database;
  let b: Database;

  beforeAll(async () => {
    testDb = await TestDatabase.create();
    a = await testDb.open();
    b = await testDb.open();
  });
  afterAll(async () => {
    await testDb?.drop();
  });

  it('keeps concurrent transactions from two replicas apart', async () => {
    // On PGlite, one session serves both: without the server's session queue their statements would interleave.
    const start: number = (await a.dataSource.query(`SELECT revision FROM config_state`))[0].revision;
    const keys = [a, b].map((db) => new ApiKeyService(db.dataSource, new AuditService(db.dataSource)));
    const failing = a.dataSource.transaction(async (m) => {
      await m.query(`INSERT INTO model (name) VALUES ('rolled_back')`);
      await new Promise((r) => setTimeout(r, 50));
      throw new Error('abort');
    }).then(() => 'committed', (e: Error) => e.message);
    const created = await Promise.all(Array.from({ length: 20 }, (_, i) => keys[i % 2].create({ name: `k${i}`, role: 'client' }, 'system')));
    expect(await failing).toBe('abort');
    expect(new Set(created.map((c) => c.apiKey.id)).size).toBe(20);
    expect((await b.dataSource.query(`SELECT revision FROM config_state`))[0].revision).toBe(start + 20);
    expect(await b.dataSource.query(`SELECT count(*)::int AS n FROM audit_event WHERE action = 'api_key.create'`)).toEqual([{ n: 20 }]);
    expect(await b.dataSource.query(`SELECT name FROM model WHERE name = 'rolled_back'`)).toEqual([]);
  });
});
