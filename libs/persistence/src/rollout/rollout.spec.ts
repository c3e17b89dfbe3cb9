import { ErrorCode, ServableError } from '@servable/contracts';
import { ModelRepository } from '@servable/model-repository';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditService } from '../audit/audit.service';
import { loadRoutingSnapshot } from '../control-plane/routing-snapshot';
import type { Database } from '../database/database';
import { RegistryService } from '../registry/registry.service';
import { copyRepository } from '../testing/fixture-repository';
import { TestDatabase } from '../testing/test-database';
import { RolloutService } from './rollout.service';

async function codeOf(p: Promise<unknown>): Promise<ErrorCode> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ServableError);
  return (err as ServableError).code;
}

describe('rollouts', () => {
  let testDb: TestDatabase;
  let db: Database;
  let repo: ReturnType<typeof copyRepository>;
  let registry: RegistryService;
  let rollouts: RolloutService;

  beforeAll(async () => {
    testDb = await TestDatabase.create();
    db = await testDb.open();
    repo = copyRepository();
    const audit = new AuditService(db.dataSource);
    registry = new RegistryService(db.dataSource, audit, new ModelRepository(repo.root));
    rollouts = new RolloutService(db.dataSource, audit);
    await registry.importRepository();
    await registry.setState('spam', 1, 'AVAILABLE');
  });
  afterAll(async () => {
    await testDb?.drop();
    repo?.remove();
  });

  it('refuses a canary or shadow that is not AVAILABLE, and weights outside 0..100', async () => {
    expect(await codeOf(rollouts.set('spam', { stable: 1, canary: 2, canaryWeight: 10 }, 'key:2:ops'))).toBe(ErrorCode.FAILED_PRECONDITION);
    expect(await codeOf(rollouts.set('spam', { stable: 1, shadow: { version: 2, share: 5 } }, 'key:2:ops'))).toBe(ErrorCode.FAILED_PRECONDITION);
    expect(await codeOf(rollouts.set('spam', { stable: 1, canary: 1, canaryWeight: 101 }, 'key:2:ops'))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(await codeOf(rollouts.set('spam', { stable: 1, canaryWeight: 10 }, 'key:2:ops'))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(await codeOf(rollouts.set('spam', { stable: 7 }, 'key:2:ops'))).toBe(ErrorCode.NOT_FOUND);
    expect(await codeOf(rollouts.set('nope', { stable: 1 }, 'key:2:ops'))).toBe(ErrorCode.NOT_FOUND);
    expect(await rollouts.get('spam')).toBeNull();
  });

  it('refuses a rollout that could not do what it says: a canary of stable itself, a cohort rule that never applies', async () => {
    await registry.setLabels('spam', { stable: 1 }, 'key:2:ops');
    // Stable given, or taken from the label.
    await expect(rollouts.set('spam', { stable: 1, canary: 1, canaryWeight: 50 }, 'key:2:ops')).rejects.toThrow('spam/1 is the stable version; a canary must be another version');
    await expect(rollouts.set('spam', { canary: 1, canaryWeight: 50 }, 'key:2:ops')).rejects.toThrow(/a canary must be another version/);
    const rules = [
      { header: 'x-tenant', value: 'acme', version: 1 },
      { header: 'X-Tenant', value: 'acme', version: 1 },
    ];
    await expect(rollouts.set('spam', { cohortRules: rules }, 'key:2:ops')).rejects.toThrow(/two cohort rules match the same header and value/);
    expect(await rollouts.get('spam')).toBeNull();
  });

  it('stores a rollout, audits before and after, and serves it in the routing snapshot', async () => {
    await registry.setState('spam', 2, 'AVAILABLE');
    await registry.setLabels('spam', { stable: 1 }, 'key:2:ops');
    const set = await rollouts.set(
      'spam',
      { canary: 2, canaryWeight: 10, cohortRules: [{ header: 'x-cohort', value: 'beta', version: 2 }], shadow: { version: 2, share: 5 } },
      'key:2:ops',
    );
    expect(set).toMatchObject({ stableVersion: null, canary: 2, canaryWeight: 10, sticky: true, shadow: { version: 2, share: 5 } });
    expect(await rollouts.get('spam')).toEqual(set);

    const { versions, ...snapshot } = (await loadRoutingSnapshot(db.dataSource)).get('spam')!;
    expect(snapshot).toEqual({
      model: 'spam',
      labels: { stable: 1 },
      available: [1, 2],
      rollout: { stable: 1, canary: 2, canaryWeight: 10, cohortRules: [{ header: 'x-cohort', value: 'beta', version: 2 }], sticky: true, shadow: { version: 2, share: 5 } },
    });
    // Every registered version with its state and parsed servable.json: the request path's one read model.
    expect(versions.map((v) => [v.version, v.state, v.manifest.version, v.manifest.tokenizer.hash.length])).toEqual([
      [1, 'AVAILABLE', 1, 64],
      [2, 'AVAILABLE', 2, 64],
    ]);

    await rollouts.set('spam', { stable: 1, canary: 2, canaryWeight: 20 }, 'key:2:ops');
    await rollouts.clear('spam', 'key:2:ops');
    const audit = await db.dataSource.query(`SELECT action, before, after FROM audit_event WHERE action LIKE 'rollout.%' ORDER BY id`);
    expect(audit.map((a: { action: string }) => a.action)).toEqual(['rollout.set', 'rollout.set', 'rollout.clear']);
    expect(audit[0].before).toBeNull();
    expect(audit[1].before).toMatchObject({ canaryWeight: 10 });
    expect(audit[1].after).toMatchObject({ canaryWeight: 20, stableVersion: 1 });
    expect(audit[2].after).toBeNull();
    expect(await rollouts.get('spam')).toBeNull();
  });

  it('promotes the canary (stable label moves, canary cleared) and rolls back, each audited', async () => {
    await registry.setLabels('spam', { stable: 1 }, 'key:2:ops');
    expect(await codeOf(rollouts.promote('spam', 'key:2:ops'))).toBe(ErrorCode.FAILED_PRECONDITION);
    await rollouts.set('spam', { canary: 2, canaryWeight: 20, shadow: { version: 1, share: 5 } }, 'key:2:ops');
    const promoted = await rollouts.promote('spam', 'key:2:ops');
    expect(promoted).toMatchObject({ stableVersion: null, canaryWeight: 0, shadow: { version: 1, share: 5 } });
    expect(promoted.canary).toBeUndefined();
    expect((await registry.getModel('spam')).labels).toEqual({ stable: 2 });
    expect((await loadRoutingSnapshot(db.dataSource)).get('spam')?.rollout).toMatchObject({ stable: 2, canaryWeight: 0 });

    await registry.setLabels('spam', { stable: 1 }, 'key:2:ops');
    await rollouts.set('spam', { canary: 2, canaryWeight: 50 }, 'key:2:ops');
    const rolledBack = await rollouts.rollback('spam', 'key:2:ops');
    expect(rolledBack).toMatchObject({ canaryWeight: 0 });
    expect(rolledBack.canary).toBeUndefined();
    expect((await registry.getModel('spam')).labels).toEqual({ stable: 1 });
    const actions = (await db.dataSource.query(`SELECT action FROM audit_event WHERE action IN ('rollout.promote', 'rollout.rollback') ORDER BY id`)).map((a: { action: string }) => a.action);
    expect(actions).toEqual(['rollout.promote', 'rollout.rollback']);
  });

  it('clears the canary label with the canary only when it names that version', async () => {
    // A user's `canary` label on the stable version is theirs: rolling back version 2 leaves it.
    await registry.setLabels('spam', { stable: 1, canary: 1 }, 'key:2:ops');
    await rollouts.set('spam', { canary: 2, canaryWeight: 10 }, 'key:2:ops');
    await rollouts.rollback('spam', 'key:2:ops');
    expect((await registry.getModel('spam')).labels).toEqual({ stable: 1, canary: 1 });
    // The label on the canary itself goes with it.
    await registry.setLabels('spam', { canary: 2 }, 'key:2:ops');
    await rollouts.set('spam', { canary: 2, canaryWeight: 10 }, 'key:2:ops');
    await rollouts.promote('spam', 'key:2:ops');
    expect((await registry.getModel('spam')).labels).toEqual({ stable: 2 });
  });
});
