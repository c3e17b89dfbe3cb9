import type { CanaryCheck, CanaryRunInput, CanaryRunView } from '@servable/contracts/admin-api';
import { canaryRunInputSchema } from '@servable/contracts/http';
import { ErrorCode, ServableError, describeIssues } from '@servable/contracts';
import type { DataSource, EntityManager } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import { announceChange } from '../changes/change-notifier';
import { isInt32 } from '../database/int32';
import { CanaryRunEntity, ModelEntity, ModelVersionEntity, RolloutEntity, VersionLabelEntity } from '../entities';
import { noTraffic, type MetricsStore } from '../metrics/metrics-store';
import { judgeWindow, type GateVerdict } from './canary-gates';

export type { CanaryRunInput, CanaryRunView };

export function canaryRunView(model: string, r: CanaryRunEntity): CanaryRunView {
  return {
    id: r.id,
    model,
    stable: r.stableVersion,
    canary: r.canaryVersion,
    state: r.state,
    stepIndex: r.stepIndex,
    weight: r.weight,
    steps: r.steps,
    stepSeconds: r.stepSeconds,
    gates: r.gates,
    sticky: r.sticky,
    mirrorShare: r.mirrorShare,
    maxExtensions: r.maxExtensions,
    stepEndsAt: r.state === 'RUNNING' ? r.stepEndsAt.toISOString() : undefined,
    startedAt: r.startedAt.toISOString(),
    startedBy: r.startedBy,
    finishedAt: r.finishedAt?.toISOString(),
    reason: r.reason ?? undefined,
    checks: r.checks,
  };
}

/** What a RUNNING run means for routing: every gateway reads it from its snapshot. */
export interface CanaryRouting {
  id: number;
  stable: number;
  canary: number;
  weight: number;
  /** Percent of the canary's requests to send to stable as well, for agreement. */
  mirrorShare: number;
}

/** The last run of a model, for the Prometheus gauges. */
export interface CanaryRunStatus {
  model: string;
  id: number;
  canary: number;
  state: CanaryRunView['state'];
  weight: number;
}

export type StepOutcome = 'next' | 'extended' | 'promoted' | 'rolled_back' | 'failed' | 'skipped';

/**
 * Automated canary analysis. A run moves the model's rollout (canary version and weight)
 * step by step, so every gateway routes by it through the routing snapshot; at the end of
 * each step it judges canary against stable over the step's window (canary-gates.ts) and
 * goes on, promotes, rolls back, or extends a thin step. The run is a row, so whichever
 * gateway holds its lease can carry on after a restart. Every decision is audited with the
 * check's numbers.
 */
export class CanaryService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly metrics: MetricsStore,
  ) {}

  async list(model: string): Promise<CanaryRunView[]> {
    const row = await this.modelRow(this.dataSource.manager, model);
    const runs = await this.dataSource.getRepository(CanaryRunEntity).find({ where: { modelId: row.id }, order: { id: 'DESC' }, take: 100 });
    return runs.map((r) => canaryRunView(model, r));
  }

  async get(model: string, id: number): Promise<CanaryRunView> {
    const row = await this.modelRow(this.dataSource.manager, model);
    const run = isInt32(id) ? await this.dataSource.getRepository(CanaryRunEntity).findOneBy({ modelId: row.id, id }) : null;
    if (!run) throw ServableError.notFound(`model "${model}" has no canary run ${id}`);
    return canaryRunView(model, run);
  }

  /**
   * Starts a run: the canary must be AVAILABLE and differ from stable (the rollout's stable
   * version, else the `stable` label), and the model may have no other running run and no
   * hand-set canary. The first step's weight applies at once.
   */
  async start(model: string, input: CanaryRunInput, actor: string, now = new Date()): Promise<CanaryRunView> {
    const parsed = canaryRunInputSchema.safeParse(input);
    if (!parsed.success) {
      throw ServableError.invalid(`canary run is not valid: ${describeIssues(parsed.error.issues)}`);
    }
    const r = parsed.data;
    return this.dataSource.transaction(async (m) => {
      const row = await this.modelRow(m, model, true);
      const running = await m.findOneBy(CanaryRunEntity, { modelId: row.id, state: 'RUNNING' });
      if (running) throw new ServableError(ErrorCode.FAILED_PRECONDITION, `model "${model}" already has canary run ${running.id} RUNNING; abort it first`);
      const canary = await m.findOneBy(ModelVersionEntity, { modelId: row.id, version: r.canary });
      if (!canary) throw ServableError.notFound(`model "${model}" has no version ${r.canary}`);
      if (canary.state !== 'AVAILABLE') {
        throw new ServableError(ErrorCode.FAILED_PRECONDITION, `${model}/${r.canary} is ${canary.state}; a canary must be AVAILABLE (pin it to have it loaded)`);
      }
      const rollout = await m.findOneBy(RolloutEntity, { modelId: row.id });
      const stable = rollout?.stableVersion ?? (await stableLabelVersion(m, row.id));
      if (stable === undefined) {
        throw new ServableError(ErrorCode.FAILED_PRECONDITION, `model "${model}" has no stable version to compare with: set the "stable" label first`);
      }
      if (stable === r.canary) throw new ServableError(ErrorCode.FAILED_PRECONDITION, `${model}/${r.canary} is already stable`);
      if (rollout?.canaryVersion && rollout.canaryWeight > 0) {
        throw new ServableError(
          ErrorCode.FAILED_PRECONDITION,
          `model "${model}" already sends ${rollout.canaryWeight}% to canary ${rollout.canaryVersion} by hand; roll it back first`,
        );
      }
      const weight = r.steps[0];
      if (rollout) {
        await m.update(RolloutEntity, { modelId: row.id }, { canaryVersion: r.canary, canaryWeight: weight, sticky: r.sticky });
      } else {
        await m.insert(RolloutEntity, { modelId: row.id, stableVersion: null, canaryVersion: r.canary, canaryWeight: weight, cohortRules: [], sticky: r.sticky, shadowVersion: null, shadowShare: 0 });
      }
      const stepEndsAt = new Date(now.getTime() + r.stepSeconds * 1000);
      const inserted = await m.save(
        m.create(CanaryRunEntity, {
          modelId: row.id,
          stableVersion: stable,
          canaryVersion: r.canary,
          state: 'RUNNING',
          steps: r.steps,
          stepSeconds: r.stepSeconds,
          gates: r.gates,
          sticky: r.sticky,
          mirrorShare: r.mirrorShare,
          maxExtensions: r.maxExtensions,
          stepIndex: 0,
          weight,
          extensions: 0,
          windowStart: now,
          stepEndsAt,
          checks: [],
          reason: null,
          startedBy: actor,
          finishedAt: null,
          leaseOwner: null,
          leaseUntil: null,
        }),
      );
      const run = await m.findOneByOrFail(CanaryRunEntity, { id: inserted.id });
      await this.audit.record(m, {
        actor,
        action: 'canary.start',
        target: `model:${model}`,
        // The run rewrites the rollout's canary, weight and sticky: what they were is part of the event.
        before: rollout ? { canary: rollout.canaryVersion, weight: rollout.canaryWeight, sticky: rollout.sticky } : null,
        after: { run: run.id, stable, canary: r.canary, steps: r.steps, stepSeconds: r.stepSeconds, gates: r.gates, weight, sticky: r.sticky, mirrorShare: r.mirrorShare },
      });
      await announceChange(m, { kind: 'canary', model });
      return canaryRunView(model, run);
    });
  }

  /** Sends all traffic back to stable and ends the run as ABORTED. */
  async abort(model: string, id: number, actor: string, now = new Date()): Promise<CanaryRunView> {
    return this.dataSource.transaction(async (m) => {
      const row = await this.modelRow(m, model, true);
      const run = isInt32(id) ? await this.lockRun(m, row.id, id) : null;
      if (!run) throw ServableError.notFound(`model "${model}" has no canary run ${id}`);
      if (run.state !== 'RUNNING') throw new ServableError(ErrorCode.FAILED_PRECONDITION, `canary run ${id} is ${run.state}, not RUNNING`);
      await this.clearCanary(m, row.id, run.canaryVersion);
      await m.update(CanaryRunEntity, { id }, { state: 'ABORTED', weight: 0, finishedAt: now, reason: `aborted by ${actor}`, leaseOwner: null, leaseUntil: null });
      await this.audit.record(m, { actor, action: 'canary.abort', target: `model:${model}`, before: { run: id, weight: run.weight, step: run.stepIndex }, after: { run: id, state: 'ABORTED', weight: 0 } });
      await announceChange(m, { kind: 'canary', model });
      return canaryRunView(model, await m.findOneByOrFail(CanaryRunEntity, { id }));
    });
  }

  /** RUNNING runs with their model names, for the driver. */
  async running(): Promise<Array<{ model: string; run: CanaryRunEntity }>> {
    const runs = await this.dataSource.getRepository(CanaryRunEntity).find({ where: { state: 'RUNNING' }, relations: { model: true }, order: { id: 'ASC' } });
    return runs.flatMap((run) => (run.model ? [{ model: run.model.name, run }] : []));
  }

  /** Every model's most recent run (for the gauges). */
  async latestPerModel(): Promise<CanaryRunStatus[]> {
    const rows: Array<{ name: string; id: number; canary_version: number; state: CanaryRunView['state']; weight: number }> = await this.dataSource.query(
      `SELECT DISTINCT ON (r.model_id) m.name, r.id, r.canary_version, r.state, r.weight
         FROM canary_run r JOIN model m ON m.id = r.model_id ORDER BY r.model_id, r.id DESC`,
    );
    return rows.map((r) => ({ model: r.name, id: r.id, canary: r.canary_version, state: r.state, weight: r.weight }));
  }

  /**
   * Takes or renews the lease on a RUNNING run: true when `owner` now drives it. Only a free,
   * expired or own lease is taken, in one UPDATE, so two gateways never both win.
   */
  async lease(id: number, owner: string, ttlMs: number): Promise<boolean> {
    const rows: unknown = await this.dataSource.query(
      `UPDATE canary_run SET lease_owner = $2, lease_until = now() + ($3::int * interval '1 millisecond')
        WHERE id = $1 AND state = 'RUNNING' AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until < now())
        RETURNING id`,
      [id, owner, Math.round(ttlMs)],
    );
    const returned = Array.isArray(rows) && Array.isArray(rows[0]) ? rows[0] : rows;
    return Array.isArray(returned) && returned.length > 0;
  }

  /** Gives a lease up (shutdown), so another gateway can take over without waiting for it to expire. */
  async release(owner: string): Promise<void> {
    await this.dataSource.query(`UPDATE canary_run SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1 AND state = 'RUNNING'`, [owner]);
  }

  /**
   * Judges the run's current step if it has ended, and applies the verdict. Only the lease
   * holder acts: the run is re-read under a row lock and skipped if it finished (abort) or
   * the lease moved meanwhile.
   */
  async advance(id: number, owner: string, now = new Date()): Promise<StepOutcome> {
    const run = await this.dataSource.getRepository(CanaryRunEntity).findOne({ where: { id }, relations: { model: true } });
    if (!run?.model || run.state !== 'RUNNING' || run.leaseOwner !== owner || run.stepEndsAt.getTime() > now.getTime()) return 'skipped';
    const model = run.model.name;
    const totals = await this.metrics.totals(model, [run.canaryVersion, run.stableVersion], run.windowStart, now);
    const c = totals.get(run.canaryVersion) ?? noTraffic();
    const s = totals.get(run.stableVersion) ?? noTraffic();
    const lastStableP99 = [...run.checks].reverse().find((k) => k.stableP99Ms !== null)?.stableP99Ms ?? null;
    const verdict = judgeWindow(
      { canary: c, stable: s, comparisons: c.compareRequests, agreementSum: c.compareAgreementSum },
      run.gates,
      lastStableP99,
    );
    return this.dataSource.transaction(async (m) => {
      const locked = await this.lockRun(m, run.modelId, id);
      if (!locked || locked.state !== 'RUNNING' || locked.leaseOwner !== owner || locked.stepIndex !== run.stepIndex || locked.extensions !== run.extensions) return 'skipped';
      const isLast = locked.stepIndex === locked.steps.length - 1;
      const thin = verdict.outcome === 'thin';
      const canExtend = thin && locked.extensions < locked.maxExtensions;
      const check = checkOf(verdict, locked, now, canExtend);
      const checks = [...locked.checks, check];
      const numbers = { run: id, ...check };
      const target = `model:${model}`;
      if (canExtend) {
        await m.update(CanaryRunEntity, { id }, { checks, extensions: locked.extensions + 1, stepEndsAt: new Date(now.getTime() + locked.stepSeconds * 1000) });
        await this.audit.record(m, { actor: 'system', action: 'canary.step', target, after: { ...numbers, extension: locked.extensions + 1 } });
        await announceChange(m, { kind: 'canary', model });
        return 'extended';
      }
      if (verdict.outcome === 'pass' && !isLast) {
        const stepIndex = locked.stepIndex + 1;
        const weight = locked.steps[stepIndex];
        await m.update(RolloutEntity, { modelId: locked.modelId }, { canaryWeight: weight });
        await m.update(CanaryRunEntity, { id }, { checks, stepIndex, weight, extensions: 0, windowStart: now, stepEndsAt: new Date(now.getTime() + locked.stepSeconds * 1000) });
        await this.audit.record(m, { actor: 'system', action: 'canary.step', target, before: { weight: locked.weight }, after: { ...numbers, nextWeight: weight } });
        await announceChange(m, { kind: 'canary', model });
        return 'next';
      }
      if (verdict.outcome === 'pass') {
        await this.promoteCanary(m, locked);
        await m.update(CanaryRunEntity, { id }, { checks, state: 'PROMOTED', weight: 0, finishedAt: now, reason: 'every step passed', leaseOwner: null, leaseUntil: null });
        await this.audit.record(m, { actor: 'system', action: 'canary.promote', target, before: { stable: locked.stableVersion }, after: { ...numbers, stable: locked.canaryVersion } });
        await announceChange(m, { kind: 'canary', model });
        return 'promoted';
      }
      const failed = thin; // thin with no extension left
      await this.clearCanary(m, locked.modelId, locked.canaryVersion);
      await m.update(CanaryRunEntity, { id }, {
        checks,
        state: failed ? 'FAILED' : 'ROLLED_BACK',
        weight: 0,
        finishedAt: now,
        reason: failed ? `too few requests after ${locked.maxExtensions} extensions: ${verdict.reason}` : verdict.reason,
        leaseOwner: null,
        leaseUntil: null,
      });
      await this.audit.record(m, { actor: 'system', action: failed ? 'canary.fail' : 'canary.rollback', target, before: { weight: locked.weight }, after: { ...numbers, weight: 0 } });
      await announceChange(m, { kind: 'canary', model });
      return failed ? 'failed' : 'rolled_back';
    });
  }

  /** The `stable` label moves to the canary, an explicit rollout stable follows it, and the canary is cleared: as rollouts.promote. */
  private async promoteCanary(m: EntityManager, run: CanaryRunEntity): Promise<void> {
    const target = await m.findOneByOrFail(ModelVersionEntity, { modelId: run.modelId, version: run.canaryVersion });
    await m.upsert(VersionLabelEntity, { modelId: run.modelId, label: 'stable', versionId: target.id }, ['modelId', 'label']);
    // As rollouts.promote: the `canary` label goes only if it names the promoted version.
    await m.delete(VersionLabelEntity, { modelId: run.modelId, label: 'canary', versionId: target.id });
    const rollout = await m.findOneBy(RolloutEntity, { modelId: run.modelId });
    if (rollout) {
      await m.update(RolloutEntity, { modelId: run.modelId }, {
        stableVersion: rollout.stableVersion === null ? null : run.canaryVersion,
        canaryVersion: null,
        canaryWeight: 0,
      });
    }
  }

  /** Weight 0 and no canary, if the rollout still names this run's canary. */
  private async clearCanary(m: EntityManager, modelId: number, canary: number): Promise<void> {
    await m.update(RolloutEntity, { modelId, canaryVersion: canary }, { canaryVersion: null, canaryWeight: 0 });
  }

  private lockRun(m: EntityManager, modelId: number, id: number): Promise<CanaryRunEntity | null> {
    return m.getRepository(CanaryRunEntity).createQueryBuilder('r').setLock('pessimistic_write').where('r.id = :id AND r.model_id = :modelId', { id, modelId }).getOne();
  }

  private async modelRow(m: EntityManager, name: string, lock = false): Promise<ModelEntity> {
    const qb = m.getRepository(ModelEntity).createQueryBuilder('m').where('m.name = :name', { name });
    if (lock) qb.setLock('pessimistic_write');
    const row = await qb.getOne();
    if (!row) throw ServableError.notFound(`model "${name}" is not registered`);
    return row;
  }
}

/** The version the model's `stable` label names, if any (a run's and a rollout's default stable). */
export async function stableLabelVersion(m: EntityManager, modelId: number): Promise<number | undefined> {
  const rows: Array<{ version: number }> = await m.query(
    `SELECT v.version FROM version_label l JOIN model_version v ON v.id = l.version_id WHERE l.model_id = $1 AND l.label = 'stable'`,
    [modelId],
  );
  return rows[0]?.version;
}

/**
 * Hand edits of a rollout wait while a canary run drives it: the run would overwrite the
 * weight at its next step, and a hand promote would race the analysis.
 */
export async function assertNoCanaryRun(m: EntityManager, modelId: number, model: string): Promise<void> {
  const running = await m.findOneBy(CanaryRunEntity, { modelId, state: 'RUNNING' });
  if (running) {
    throw new ServableError(ErrorCode.FAILED_PRECONDITION, `canary run ${running.id} drives the rollout of "${model}"; abort it (POST .../canary-runs/${running.id}/abort) first`);
  }
}

function checkOf(v: GateVerdict, run: CanaryRunEntity, now: Date, extended: boolean): CanaryCheck {
  const round = (x: number | null, digits = 4) => (x === null ? null : Number(x.toFixed(digits)));
  return {
    at: now.toISOString(),
    step: run.stepIndex,
    weight: run.weight,
    requests: v.requests,
    errorRate: round(v.errorRate),
    p99Ms: round(v.p99Ms, 2),
    stableRequests: v.stableRequests,
    stableErrorRate: round(v.stableErrorRate),
    stableP99Ms: round(v.stableP99Ms, 2),
    comparisons: v.comparisons,
    agreement: round(v.agreement),
    errorZ: round(v.errorZ, 3),
    agreementUpper: round(v.agreementUpper),
    passed: v.outcome === 'pass',
    reason: extended ? `extended: ${v.reason}` : v.reason,
    ...(extended ? { extended: true } : {}),
  };
}
