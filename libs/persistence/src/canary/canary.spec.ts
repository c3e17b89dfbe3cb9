import { ErrorCode, ServableError } from '@servable/contracts';
import type { CanaryRunInput, CanaryRunView } from '@servable/contracts/admin-api';
import { ModelRepository } from '@servable/model-repository';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditService } from '../audit/audit.service';
import { loadRoutingSnapshot } from '../control-plane/routing-snapshot';
import type { Database } from '../database/database';
import { MetricsStore } from '../metrics/metrics-store';
import { RegistryService } from '../registry/registry.service';
import { RolloutService } from '../rollout/rollout.service';
import { copyRepository } from '../testing/fixture-repository';
import { TestDatabase } from '../testing/test-database';
import { CanaryService } from './canary.service';

/** When the run's current step ends (RUNNING runs only). */
function endsAt(run: CanaryRunView): number {
  if (!run.stepEndsAt) throw new Error(`run ${run.id} is ${run.state}: no step end`);
  return Date.parse(run.stepEndsAt);
}

async function codeOf(p: Promise<unknown>): Promise<ErrorCode> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ServableError);
  return (err as ServableError).code;
}

const RUN: CanaryRunInput = {
  canary: 2,
  steps: [20, 50, 100],
  stepSeconds: 5,
  gates: { maxErrorRate: 0.01, maxP99Ratio: 2, minAgreement: 0.9, minRequests: 20 },
  maxExtensions: 1,
};

describe('canary runs', () => {
  let testDb: TestDatabase;
  let db: Database;
  let repo: ReturnType<typeof copyRepository>;
  let registry: RegistryService;
  let rollouts: RolloutService;
  let metrics: MetricsStore;
  let canaries: CanaryService;
  let audit: AuditService;

  /**
   * Each test runs in its own minute of (future) time: the analysis reads whole 10 s buckets,
   * so runs within one bucket would see each other's traffic.
   */
  let clock = Date.now();
  const nextMinute = () => new Date((clock += 60_000));
  /** Traffic of one step as the gateway records it at `at`: canary requests, half mirrored to stable with `agreement`. */
  const traffic = async (at: number, canary: number, stable: number | null, agreement: number, n = 30) => {
    for (let i = 0; i < n; i++) {
      metrics.record({ model: 'spam', version: canary, latencyMs: 8, at });
      if (stable !== null) metrics.record({ model: 'spam', version: stable, latencyMs: 8, at });
      if (stable !== null) metrics.record({ model: 'spam', version: stable, latencyMs: 8, at });
      if (i % 2 === 0) metrics.recordComparison({ model: 'spam', version: canary, agreement, at });
    }
    await metrics.flush();
  };
  /** Ends the current step of `id` as if its stepSeconds had passed. */
  const endStep = async (id: number) => {
    const run = await canaries.get('spam', id);
    return canaries.advance(id, 'gw-a', new Date(endsAt(run) + 1));
  };
  const routingOf = async (model: string) => {
    const routing = (await loadRoutingSnapshot(db.dataSource)).get(model);
    if (!routing) throw new Error(`no routing for ${model}`);
    return routing;
  };
  const actions = async (since: number) =>
    (await audit.list({ limit: 100 })).events.filter((e) => e.id > since && e.action.startsWith('canary.')).reverse();

  beforeAll(async () => {
    testDb = await TestDatabase.create();
    db = await testDb.open();
    repo = copyRepository();
    audit = new AuditService(db.dataSource);
    registry = new RegistryService(db.dataSource, audit, new ModelRepository(repo.root));
    rollouts = new RolloutService(db.dataSource, audit);
    metrics = new MetricsStore(db.dataSource);
    canaries = new CanaryService(db.dataSource, audit, metrics);
    await registry.importRepository();
    await registry.setState('spam', 1, 'AVAILABLE');
    await registry.setState('spam', 2, 'AVAILABLE');
    await registry.setLabels('spam', { stable: 1 }, 'key:1:ops');
  });
  afterAll(async () => {
    await testDb?.drop();
    repo?.remove();
  });

  it('refuses bad input, a canary equal to stable, and an unknown version', async () => {
    expect(await codeOf(canaries.start('spam', { ...RUN, steps: [50, 20, 100] }, 'ops'))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(await codeOf(canaries.start('spam', { ...RUN, steps: [10, 50] }, 'ops'))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(await codeOf(canaries.start('spam', { ...RUN, gates: { ...RUN.gates, maxErrorRate: 2 } }, 'ops'))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(await codeOf(canaries.start('spam', { ...RUN, canary: 1 }, 'ops'))).toBe(ErrorCode.FAILED_PRECONDITION);
    expect(await codeOf(canaries.start('spam', { ...RUN, canary: 9 }, 'ops'))).toBe(ErrorCode.NOT_FOUND);
    expect(await codeOf(canaries.start('nope', RUN, 'ops'))).toBe(ErrorCode.NOT_FOUND);
  });

  it('rolls back at the first step when the canary disagrees with stable, and audits the check', async () => {
    const floor = (await audit.list({ limit: 1 })).events[0].id;
    const t0 = nextMinute();
    const run = await canaries.start('spam', RUN, 'key:1:ops', t0);
    expect(run).toMatchObject({ state: 'RUNNING', stable: 1, canary: 2, weight: 20, stepIndex: 0, checks: [] });
    // Every gateway routes by it: the rollout carries the weight, the snapshot the mirror share.
    const snap = (await routingOf('spam'));
    expect(snap.rollout).toMatchObject({ stable: 1, canary: 2, canaryWeight: 20 });
    expect(snap.canaryRun).toMatchObject({ id: run.id, stable: 1, canary: 2, mirrorShare: 50 });
    // Hand edits wait for the run, and a second run cannot start.
    expect(await codeOf(rollouts.set('spam', { canary: 2, canaryWeight: 90 }, 'ops'))).toBe(ErrorCode.FAILED_PRECONDITION);
    expect(await codeOf(rollouts.promote('spam', 'ops'))).toBe(ErrorCode.FAILED_PRECONDITION);
    expect(await codeOf(canaries.start('spam', RUN, 'ops'))).toBe(ErrorCode.FAILED_PRECONDITION);
    // So do the labels it judges by: stable is its baseline, and neither can be moved or removed.
    for (const change of [{ stable: 2 }, { canary: 2 }, { stable: null }, { beta: 2, stable: 2 }]) {
      const refused = await registry.setLabels('spam', change, 'ops').then(() => undefined, (e: unknown) => e);
      expect(refused, JSON.stringify(change)).toMatchObject({ code: ErrorCode.FAILED_PRECONDITION, message: expect.stringMatching(`canary run ${run.id} drives the rollout`) });
    }
    expect((await registry.getModel('spam')).labels).toEqual({ stable: 1 });
    // Other labels stay editable, and naming stable's current version moves nothing.
    expect(await registry.setLabels('spam', { beta: 2, stable: 1 }, 'ops')).toEqual({ beta: 2, stable: 1 });
    expect(await registry.setLabels('spam', { beta: null }, 'ops')).toEqual({ stable: 1 });

    // Only the lease holder acts; another gateway cannot take a live lease.
    expect(await canaries.lease(run.id, 'gw-a', 10_000)).toBe(true);
    expect(await canaries.lease(run.id, 'gw-b', 10_000)).toBe(false);
    expect(await canaries.advance(run.id, 'gw-b', new Date(Date.now() + 60_000))).toBe('skipped');
    // A driver that stops renewing loses the run once its lease has expired; a release hands it over at once.
    expect(await canaries.lease(run.id, 'gw-a', 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(await canaries.lease(run.id, 'gw-b', 10_000)).toBe(true);
    expect(await canaries.lease(run.id, 'gw-a', 10_000)).toBe(false);
    await canaries.release('gw-b');
    expect(await canaries.lease(run.id, 'gw-a', 10_000)).toBe(true);
    // Before the step ends nothing happens.
    expect(await canaries.advance(run.id, 'gw-a', t0)).toBe('skipped');

    await traffic(t0.getTime() + 1_000, 2, 1, 0);
    expect(await endStep(run.id)).toBe('rolled_back');
    const done = await canaries.get('spam', run.id);
    expect(done).toMatchObject({ state: 'ROLLED_BACK', weight: 0 });
    expect(done.checks).toHaveLength(1);
    expect(done.checks[0]).toMatchObject({ step: 0, weight: 20, requests: 30, comparisons: 15, agreement: 0, passed: false });
    expect(done.reason).toMatch(/^agreement 0\.0% over 15 mirrored requests/);
    const after = (await routingOf('spam'));
    expect(after.rollout).toMatchObject({ stable: 1, canaryWeight: 0 });
    expect(after.rollout?.canary).toBeUndefined();
    expect(after.canaryRun).toBeUndefined();
    const events = await actions(floor);
    expect(events.map((e) => e.action)).toEqual(['canary.start', 'canary.rollback']);
    expect(events[1].after).toMatchObject({ run: run.id, requests: 30, comparisons: 15, agreement: 0, weight: 0 });
  });

  it('promotes a canary that passes every step: stable moves to it', async () => {
    const floor = (await audit.list({ limit: 1 })).events[0].id;
    const t0 = nextMinute();
    const run = await canaries.start('spam', { ...RUN, steps: [50, 100], stepSeconds: 20 }, 'key:1:ops', t0);
    expect(await canaries.lease(run.id, 'gw-a', 10_000)).toBe(true);
    await traffic(t0.getTime() + 1_000, 2, 1, 1);
    expect(await endStep(run.id)).toBe('next');
    expect((await routingOf('spam')).rollout).toMatchObject({ canary: 2, canaryWeight: 100 });
    // The 100 % step: no stable traffic, judged on the canary alone and the mirrored answers.
    await traffic(t0.getTime() + 30_000, 2, null, 1);
    expect(await endStep(run.id)).toBe('promoted');
    const done = await canaries.get('spam', run.id);
    expect(done).toMatchObject({ state: 'PROMOTED', weight: 0 });
    expect(done.checks.map((c) => [c.weight, c.passed])).toEqual([[50, true], [100, true]]);
    expect((await registry.getModel('spam')).labels).toMatchObject({ stable: 2 });
    const snap = (await routingOf('spam'));
    expect(snap.rollout).toMatchObject({ stable: 2, canaryWeight: 0 });
    expect((await actions(floor)).map((e) => e.action)).toEqual(['canary.start', 'canary.step', 'canary.promote']);
  });

  it('extends a thin step a bounded number of times, then fails back to stable', async () => {
    const run = await canaries.start('spam', { ...RUN, canary: 1 }, 'key:1:ops', nextMinute());
    expect(run.stable).toBe(2);
    await canaries.lease(run.id, 'gw-a', 10_000);
    // No traffic at all: extended once (maxExtensions 1), then FAILED.
    expect(await canaries.advance(run.id, 'gw-a', new Date(endsAt(run) + 1))).toBe('extended');
    const extended = await canaries.get('spam', run.id);
    expect(extended.checks[0]).toMatchObject({ extended: true, passed: false });
    expect(endsAt(extended)).toBeGreaterThan(endsAt(run));
    expect(await endStep(run.id)).toBe('failed');
    expect(await canaries.get('spam', run.id)).toMatchObject({ state: 'FAILED', weight: 0 });
    expect((await routingOf('spam')).rollout?.canary).toBeUndefined();
  });

  it('aborts a running run: all traffic back to stable; a finished run cannot be aborted', async () => {
    const run = await canaries.start('spam', { ...RUN, canary: 1 }, 'key:1:ops');
    const aborted = await canaries.abort('spam', run.id, 'key:1:ops');
    expect(aborted).toMatchObject({ state: 'ABORTED', weight: 0, reason: 'aborted by key:1:ops' });
    expect((await routingOf('spam')).rollout).toMatchObject({ stable: 2, canaryWeight: 0 });
    expect(await codeOf(canaries.abort('spam', run.id, 'ops'))).toBe(ErrorCode.FAILED_PRECONDITION);
    expect(await codeOf(canaries.abort('spam', 9999, 'ops'))).toBe(ErrorCode.NOT_FOUND);
    // History, newest first, and the gauges' view.
    expect((await canaries.list('spam')).map((r) => r.state)).toEqual(['ABORTED', 'FAILED', 'PROMOTED', 'ROLLED_BACK']);
    expect(await canaries.latestPerModel()).toEqual([{ model: 'spam', id: run.id, canary: 1, state: 'ABORTED', weight: 0 }]);
  });

  it("audits the rollout fields a run rewrites, sticky among them, with what they were", async () => {
    await rollouts.set('spam', { sticky: false }, 'ops');
    const floor = (await audit.list({ limit: 1 })).events[0].id;
    const run = await canaries.start('spam', { ...RUN, canary: 1, sticky: true }, 'key:1:ops');
    const [started] = await actions(floor);
    expect(started).toMatchObject({ action: 'canary.start', before: { canary: null, weight: 0, sticky: false }, after: { run: run.id, canary: 1, weight: 20, sticky: true } });
    await canaries.abort('spam', run.id, 'ops');
    await rollouts.clear('spam', 'ops');
  });
});
