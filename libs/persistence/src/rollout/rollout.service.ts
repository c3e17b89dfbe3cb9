import type { RolloutInput, RolloutView } from '@servable/contracts/admin-api';
import { rolloutInputSchema } from '@servable/contracts/http';
import { ErrorCode, ServableError, describeIssues } from '@servable/contracts';
import type { DataSource, EntityManager } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import { assertNoCanaryRun, stableLabelVersion } from '../canary/canary.service';
import { announceChange } from '../changes/change-notifier';
import { ModelEntity, ModelVersionEntity, RolloutEntity, VersionLabelEntity } from '../entities';

export type { RolloutInput, RolloutView };

export function rolloutView(model: string, r: RolloutEntity): RolloutView {
  return {
    model,
    stableVersion: r.stableVersion,
    canary: r.canaryVersion ?? undefined,
    canaryWeight: r.canaryWeight,
    cohortRules: r.cohortRules,
    sticky: r.sticky,
    shadow: r.shadowVersion !== null ? { version: r.shadowVersion, share: r.shadowShare } : undefined,
    updatedAt: r.updatedAt.toISOString(),
  };
}

/** Per-model rollouts: stable, an optional weighted canary, cohort pins, sticky keys and a shadow. */
export class RolloutService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async get(model: string): Promise<RolloutView | null> {
    const row = await this.modelRow(this.dataSource.manager, model);
    const r = await this.dataSource.getRepository(RolloutEntity).findOneBy({ modelId: row.id });
    return r ? rolloutView(model, r) : null;
  }

  /**
   * Replaces a model's rollout. Every version it names must exist and be AVAILABLE now
   * (FAILED_PRECONDITION otherwise): pin a version first to have it loaded. Routing
   * checks AVAILABLE again per request, since a version can fail later.
   */
  async set(model: string, input: RolloutInput, actor: string): Promise<RolloutView> {
    const parsed = rolloutInputSchema.safeParse(input);
    if (!parsed.success) {
      throw ServableError.invalid(`rollout is not valid: ${describeIssues(parsed.error.issues)}`);
    }
    const r = parsed.data;
    return this.dataSource.transaction(async (m) => {
      const row = await this.modelRow(m, model, true);
      await assertNoCanaryRun(m, row.id, model);
      const named = [r.stable, r.canary, r.shadow?.version, ...r.cohortRules.map((c) => c.version)].filter((v): v is number => v !== undefined);
      await this.assertAvailable(m, row, named);
      // A canary of the stable version itself splits nothing: refused, as a canary run refuses it. (A shadow
      // of stable is fine: requests the canary answers are mirrored to stable and compared.)
      if (r.canary !== undefined && r.canary === (r.stable ?? (await stableLabelVersion(m, row.id)))) {
        throw new ServableError(ErrorCode.FAILED_PRECONDITION, `${model}/${r.canary} is the stable version; a canary must be another version`);
      }
      const existing = await m.findOneBy(RolloutEntity, { modelId: row.id });
      const before = existing ? rolloutView(model, existing) : null;
      await m.save(RolloutEntity, {
        modelId: row.id,
        stableVersion: r.stable ?? null,
        canaryVersion: r.canary ?? null,
        canaryWeight: r.canaryWeight,
        cohortRules: r.cohortRules,
        sticky: r.sticky,
        shadowVersion: r.shadow?.version ?? null,
        shadowShare: r.shadow?.share ?? 0,
      });
      return this.recorded(m, row, actor, 'rollout.set', before);
    });
  }

  /** Removes the rollout: the model goes back to its `stable` label (or latest AVAILABLE). */
  async clear(model: string, actor: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const row = await this.modelRow(m, model, true);
      await assertNoCanaryRun(m, row.id, model);
      const existing = await m.findOneBy(RolloutEntity, { modelId: row.id });
      if (!existing) return;
      await m.delete(RolloutEntity, { modelId: row.id });
      await this.audit.record(m, { actor, action: 'rollout.clear', target: `model:${model}`, before: strip(rolloutView(model, existing)), after: null });
      await announceChange(m, { kind: 'rollout', model });
    });
  }

  /**
   * The canary becomes stable in one transaction: the `stable` label moves to it, a
   * rollout that named its stable version explicitly now names the canary, and the
   * canary and its weight are cleared. Cohort rules and the shadow stay.
   */
  async promote(model: string, actor: string): Promise<RolloutView> {
    return this.dataSource.transaction(async (m) => {
      const { row, existing, canary } = await this.withCanary(m, model, 'promote');
      await this.assertAvailable(m, row, [canary]);
      const target = await m.findOneByOrFail(ModelVersionEntity, { modelId: row.id, version: canary });
      await m.upsert(VersionLabelEntity, { modelId: row.id, label: 'stable', versionId: target.id }, ['modelId', 'label']);
      // The `canary` label goes only if it names the version that was the canary: one a user set on another version stays.
      await m.delete(VersionLabelEntity, { modelId: row.id, label: 'canary', versionId: target.id });
      await m.update(RolloutEntity, { modelId: row.id }, {
        stableVersion: existing.stableVersion === null ? null : canary,
        canaryVersion: null,
        canaryWeight: 0,
      });
      return this.recorded(m, row, actor, 'rollout.promote', rolloutView(model, existing), { stableLabel: canary });
    });
  }

  /** Takes all traffic off the canary at once: canary and weight cleared, stable untouched. */
  async rollback(model: string, actor: string): Promise<RolloutView> {
    return this.dataSource.transaction(async (m) => {
      const { row, existing, canary } = await this.withCanary(m, model, 'roll back');
      const target = await m.findOneByOrFail(ModelVersionEntity, { modelId: row.id, version: canary });
      await m.delete(VersionLabelEntity, { modelId: row.id, label: 'canary', versionId: target.id });
      await m.update(RolloutEntity, { modelId: row.id }, { canaryVersion: null, canaryWeight: 0 });
      return this.recorded(m, row, actor, 'rollout.rollback', rolloutView(model, existing));
    });
  }

  /** The model (locked for the transaction) and its rollout; FAILED_PRECONDITION when the rollout has no canary to act on. */
  private async withCanary(m: EntityManager, model: string, verb: string): Promise<{ row: ModelEntity; existing: RolloutEntity; canary: number }> {
    const row = await this.modelRow(m, model, true);
    await assertNoCanaryRun(m, row.id, model);
    const existing = await m.findOneBy(RolloutEntity, { modelId: row.id });
    if (!existing?.canaryVersion) throw new ServableError(ErrorCode.FAILED_PRECONDITION, `model "${model}" has no canary to ${verb}`);
    return { row, existing, canary: existing.canaryVersion };
  }

  /** The end of every rollout change: read it back, audit before and after, and tell the gateways. */
  private async recorded(
    m: EntityManager,
    row: ModelEntity,
    actor: string,
    action: 'rollout.set' | 'rollout.promote' | 'rollout.rollback',
    before: RolloutView | null,
    extra: Record<string, unknown> = {},
  ): Promise<RolloutView> {
    const after = rolloutView(row.name, await m.findOneByOrFail(RolloutEntity, { modelId: row.id }));
    await this.audit.record(m, { actor, action, target: `model:${row.name}`, before: strip(before), after: { ...strip(after), ...extra } });
    await announceChange(m, { kind: 'rollout', model: row.name });
    return after;
  }

  private async assertAvailable(m: EntityManager, model: ModelEntity, versions: number[]): Promise<void> {
    for (const v of new Set(versions)) {
      const row = await m.findOneBy(ModelVersionEntity, { modelId: model.id, version: v });
      if (!row) throw ServableError.notFound(`model "${model.name}" has no version ${v}`);
      if (row.state !== 'AVAILABLE') {
        throw new ServableError(ErrorCode.FAILED_PRECONDITION, `${model.name}/${v} is ${row.state}; a rollout can only name AVAILABLE versions (pin it to have it loaded)`);
      }
    }
  }

  private async modelRow(m: EntityManager, name: string, lock = false): Promise<ModelEntity> {
    const qb = m.getRepository(ModelEntity).createQueryBuilder('m').where('m.name = :name', { name });
    if (lock) qb.setLock('pessimistic_write');
    const row = await qb.getOne();
    if (!row) throw ServableError.notFound(`model "${name}" is not registered`);
    return row;
  }
}

/** Audit rows hold the config, not the bookkeeping timestamp. */
function strip(view: RolloutView | null): Omit<RolloutView, 'updatedAt'> | null {
  if (!view) return null;
  const { updatedAt: _updatedAt, ...rest } = view;
  return rest;
}
