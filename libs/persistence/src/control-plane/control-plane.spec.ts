import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actorOf } from '../auth/api-key.service';
import { copyRepository, uploadOf } from '../testing/fixture-repository';
import { TestDatabase } from '../testing/test-database';
import { ControlPlane, controlPlaneEnvSchema, controlPlaneOptionsFromEnv } from './control-plane';
import { computeDesiredState, planReconcile } from './desired-state';

describe('control plane', () => {
  let testDb: TestDatabase;
  let repo: ReturnType<typeof copyRepository>;
  let cp: ControlPlane;

  beforeAll(async () => {
    testDb = await TestDatabase.create();
    repo = copyRepository();
    cp = await ControlPlane.open({ database: testDb.options(), repositoryRoot: repo.root, metricsFlushIntervalMs: 60_000 });
  });
  afterAll(async () => {
    await cp?.close();
    await testDb?.drop();
    repo?.remove();
  });

  it('reads its settings from the environment', () => {
    const env = controlPlaneEnvSchema.parse({ SERVABLE_DATA_DIR: '/tmp/x', METRICS_RETENTION_DAYS: '3' });
    expect(env.SERVABLE_AUTH).toBe('on');
    const options = controlPlaneOptionsFromEnv(env);
    expect(options.database).toEqual({ dataDir: '/tmp/x/pgdata' });
    expect(options.metricsRetentionDays).toBe(3);
    expect(controlPlaneOptionsFromEnv(controlPlaneEnvSchema.parse({ DATABASE_URL: 'postgres://h/db' })).database).toEqual({ url: 'postgres://h/db' });
  });

  it('starts up: imports the repository and creates the first admin key', async () => {
    const { imported, createdAdminKey } = await cp.startUp();
    expect(imported.added).toEqual(['spam/1', 'spam/2']);
    expect(createdAdminKey).toMatch(/^svb_/);
    const again = await cp.startUp();
    expect(again.imported.added).toEqual([]);
    expect(again.createdAdminKey).toBeUndefined();
  });

  it('writes an audit row for every admin mutation, with who, what, before and after', async () => {
    const admin = await cp.apiKeys.verify((await cp.apiKeys.create({ name: 'root', role: 'admin' }, 'system')).key);
    const who = actorOf(admin);
    const before = Number((await cp.db.dataSource.query(`SELECT count(*)::int AS n FROM audit_event`))[0].n);

    // What the reconcile loop reports is not an admin mutation: no audit row.
    await cp.registry.setState('spam', 1, 'AVAILABLE');
    await cp.registry.setState('spam', 2, 'AVAILABLE');
    await cp.registry.registerVersion({ model: 'spam', ...uploadOf(repo.root, 3) }, async () => undefined, who);
    await cp.registry.setPinned('spam', 1, false, who);
    await cp.registry.setLabels('spam', { stable: 1 }, who);
    await cp.rollouts.set('spam', { canary: 2, canaryWeight: 10 }, who);
    await cp.rollouts.clear('spam', who);
    const { apiKey } = await cp.apiKeys.create({ name: 'app', role: 'client' }, who);
    await cp.apiKeys.revoke(apiKey.id, who);

    const { events } = await cp.audit.list({ actor: who });
    expect(events.map((e) => e.action).reverse()).toEqual([
      'version.register',
      'version.pin',
      'label.set',
      'rollout.set',
      'rollout.clear',
      'api_key.create',
      'api_key.revoke',
    ]);
    expect(Number((await cp.db.dataSource.query(`SELECT count(*)::int AS n FROM audit_event`))[0].n)).toBe(before + 7);
    expect(events.every((e) => e.actor === who && !Number.isNaN(Date.parse(e.at)))).toBe(true);
    const labelEvent = events.find((e) => e.action === 'label.set');
    expect(labelEvent).toMatchObject({ target: 'model:spam', before: {}, after: { stable: 1 } });

    // Paging and filters.
    const page = await cp.audit.list({ actor: who, limit: 3 });
    expect(page.events).toHaveLength(3);
    const next = await cp.audit.list({ actor: who, limit: 3, beforeId: page.nextBeforeId });
    expect(next.events[0].id).toBeLessThan(page.events[2].id);
    expect((await cp.audit.list({ target: 'model:spam' })).events.some((e) => e.target === 'model:spam/3')).toBe(true);
  });

  it('gives a restarted inference service back every version it should hold', async () => {
    const desired = await computeDesiredState(cp.db.dataSource, repo.root);
    // A fresh inference process holds nothing: the plan loads all of them again.
    const plan = planReconcile(desired, []);
    expect(plan.load.map((v) => `${v.model}/${v.version}`)).toEqual(['spam/1', 'spam/2', 'spam/3']);
    expect(plan.unload).toEqual([]);
  });
});

describe('control plane start-up on one database', () => {
  it('lets two replicas start at once without tripping over each other', async () => {
    const testDb = await TestDatabase.create();
    const repo = copyRepository();
    try {
      const options = { database: testDb.options(), repositoryRoot: repo.root };
      const [a, b] = await Promise.all([ControlPlane.open(options), ControlPlane.open(options)]);
      const [ra, rb] = await Promise.all([a.startUp(), b.startUp()]);
      expect([...ra.imported.added, ...rb.imported.added].sort()).toEqual(['spam/1', 'spam/2']);
      expect([ra.createdAdminKey, rb.createdAdminKey].filter(Boolean)).toHaveLength(1);
      expect(await a.db.dataSource.query(`SELECT count(*)::int AS n FROM model_version`)).toEqual([{ n: 2 }]);
      await Promise.all([a.close(), b.close()]);
    } finally {
      await testDb.drop();
      repo.remove();
    }
  });
});
