import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditService } from '../audit/audit.service';
import { Database } from '../database/database';
import { TestDatabase } from '../testing/test-database';
import { ApiKeyService } from '../auth/api-key.service';
import { ChangeNotifier, type ConfigChange } from './change-notifier';

/** Resolves with the first change, or rejects after `ms`: the "within 1 s" of the issue. */
function nextChange(notifier: ChangeNotifier, ms: number): { started: Promise<number>; change: Promise<ConfigChange> } {
  let resolve!: (c: ConfigChange) => void;
  const change = new Promise<ConfigChange>((res, rej) => {
    resolve = res;
    setTimeout(() => rej(new Error(`no change within ${ms} ms`)), ms).unref();
  });
  return { started: notifier.start(resolve), change };
}

describe('change notifier', () => {
  let testDb: TestDatabase;
  let writer: Database;
  let reader: Database;

  beforeAll(async () => {
    testDb = await TestDatabase.create();
    writer = await testDb.open();
    reader = await testDb.open();
  });
  afterAll(async () => {
    await testDb?.drop();
  });

  it('tells a second replica about a change made through the first within 1 s', async () => {
    // Polling slower than the deadline: only LISTEN/NOTIFY can meet it.
    const notifier = new ChangeNotifier(reader, { pollIntervalMs: 5_000 });
    const { started, change } = nextChange(notifier, 1_000);
    const startRevision = await started;
    await new ApiKeyService(writer.dataSource, new AuditService(writer.dataSource)).create({ name: 'x', role: 'client' }, 'key:1:admin');
    await expect(change).resolves.toMatchObject({ kind: 'api_key', revision: startRevision + 1 });
    await notifier.stop();
  });

  it('falls back to polling when LISTEN is not available', async () => {
    const deaf = Object.create(reader) as Database;
    deaf.listen = async () => {
      throw new Error('LISTEN is down');
    };
    const errors: Error[] = [];
    const notifier = new ChangeNotifier(deaf, { pollIntervalMs: 200, onError: (e) => errors.push(e) });
    const { started, change } = nextChange(notifier, 1_000);
    const startRevision = await started;
    await new ApiKeyService(writer.dataSource, new AuditService(writer.dataSource)).create({ name: 'y', role: 'client' }, 'key:1:admin');
    await expect(change).resolves.toMatchObject({ kind: 'poll', revision: startRevision + 1 });
    expect(errors[0]?.message).toBe('LISTEN is down');
    await notifier.stop();
  });

  it('reports nothing for a transaction that rolled back', async () => {
    const seen: ConfigChange[] = [];
    const notifier = new ChangeNotifier(reader, { pollIntervalMs: 100 });
    await notifier.start((c) => seen.push(c));
    await expect(
      writer.dataSource.transaction(async (m) => {
        await m.query(`UPDATE config_state SET revision = revision + 1 WHERE id = 1`);
        await m.query(`SELECT pg_notify('servable_config', '{"revision": 999999, "kind": "x"}')`);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await new Promise((r) => setTimeout(r, 400));
    expect(seen).toEqual([]);
    await notifier.stop();
  });
});
