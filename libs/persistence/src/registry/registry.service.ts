import { ErrorCode, ServableError } from '@servable/contracts';
import type { ModelRepository } from '@servable/model-repository';
import { In, type DataSource, type EntityManager } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import { assertNoCanaryRun } from '../canary/canary.service';
import { announceChange } from '../changes/change-notifier';
import { isInt32 } from '../database/int32';
import { ModelEntity, ModelVersionEntity, VersionLabelEntity, VERSION_STATES, type VersionState } from '../entities';
import { importRepository, type ImportReport } from './repository-import';
import { cleanStaging, registerVersion, type LoadValidator, type VersionUpload } from './version-upload';
import { versionView, type ModelView, type VersionView } from './views';

const LABEL = /^[a-zA-Z0-9_]+$/;
/** The labels a canary run judges by and moves: `stable` is its baseline, `canary` what it promotes. */
const RUN_LABELS = ['stable', 'canary'];

/** label → version number, or null to remove the label. */
export type LabelChanges = Record<string, number | null>;

/**
 * The registry of models, versions and their labels. Reads are plain; every admin
 * mutation runs in one transaction with its audit event and a config-change notice.
 */
export class RegistryService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    readonly repository: ModelRepository,
  ) {}

  /**
   * Start-up: registers every version of the model repository the database lacks (and
   * clears staging directories a crash left). Running it again changes nothing.
   */
  async importRepository(actor = 'system'): Promise<ImportReport> {
    await cleanStaging(this.repository.root);
    return importRepository(this.dataSource, this.audit, this.repository, actor);
  }

  /**
   * Registers an uploaded version after validating it (tokenizer hash, signature, and
   * `validate`: the model loads and answers a warm-up prediction). On any failure nothing
   * is left, neither files nor rows. `pin` (default true) keeps it loaded until labelled.
   */
  async registerVersion(upload: VersionUpload, validate: LoadValidator, actor: string, options: { pin?: boolean } = {}): Promise<VersionView> {
    const { model, version } = await registerVersion(this.dataSource, this.audit, this.repository.root, upload, validate, actor, options.pin ?? true);
    return this.getVersion(model, version);
  }

  async listModels(): Promise<ModelView[]> {
    const models = await this.dataSource.getRepository(ModelEntity).find({ order: { name: 'ASC' } });
    return this.viewsOf(models);
  }

  async getModel(name: string): Promise<ModelView> {
    const model = await this.dataSource.getRepository(ModelEntity).findOneBy({ name });
    if (!model) throw ServableError.notFound(`model "${name}" is not registered`);
    return (await this.viewsOf([model]))[0];
  }

  async getVersion(model: string, version: number): Promise<VersionView> {
    const view = (await this.getModel(model)).versions.find((v) => v.version === version);
    if (!view) throw ServableError.notFound(`model "${model}" has no version ${version}`);
    return view;
  }

  /**
   * Moves, adds and removes labels of one model in one transaction: all of them or none.
   * A label may point only at an AVAILABLE version (FAILED_PRECONDITION otherwise), and
   * `stable` and `canary` stay where they are while a canary run is RUNNING.
   */
  async setLabels(model: string, changes: LabelChanges, actor: string): Promise<Record<string, number>> {
    for (const label of Object.keys(changes)) {
      if (!LABEL.test(label) || label.length > 64) throw ServableError.invalid(`label "${label}" must match [a-zA-Z0-9_]+ (at most 64 characters)`);
    }
    return this.dataSource.transaction(async (m) => {
      const row = await this.lockModel(m, model);
      const before = await this.labelsOf(m, row.id);
      // A run compares against the stable it started with and promotes by moving these labels
      // itself: a hand move would change the baseline under it. Re-sending a label's current
      // version moves nothing, so a client that writes back the whole map is not refused.
      if (RUN_LABELS.some((label) => label in changes && (changes[label] ?? undefined) !== before[label])) {
        await assertNoCanaryRun(m, row.id, model);
      }
      for (const [label, version] of Object.entries(changes)) {
        if (version === null) {
          await m.delete(VersionLabelEntity, { modelId: row.id, label });
          continue;
        }
        const target = isInt32(version) ? await m.findOneBy(ModelVersionEntity, { modelId: row.id, version }) : null;
        if (!target) throw ServableError.notFound(`model "${model}" has no version ${version}`);
        if (target.state !== 'AVAILABLE') {
          throw new ServableError(
            ErrorCode.FAILED_PRECONDITION,
            `label "${label}" can only point at an AVAILABLE version; ${model}/${version} is ${target.state}`,
          );
        }
        await m.upsert(VersionLabelEntity, { modelId: row.id, label, versionId: target.id }, ['modelId', 'label']);
      }
      const after = await this.labelsOf(m, row.id);
      // Nothing moved (a label removed that did not exist, the current map sent back): nothing to audit or announce, as for a pin.
      if (sameLabels(before, after)) return after;
      await this.audit.record(m, { actor, action: 'label.set', target: `model:${model}`, before, after });
      await announceChange(m, { kind: 'label', model });
      return after;
    });
  }

  /** A pinned version stays loaded although no label or rollout names it. */
  async setPinned(model: string, version: number, pinned: boolean, actor: string): Promise<VersionView> {
    await this.dataSource.transaction(async (m) => {
      const row = await this.lockModel(m, model);
      const v = isInt32(version) ? await m.findOneBy(ModelVersionEntity, { modelId: row.id, version }) : null;
      if (!v) throw ServableError.notFound(`model "${model}" has no version ${version}`);
      if (v.pinned === pinned) return;
      await m.update(ModelVersionEntity, { id: v.id }, { pinned });
      await this.audit.record(m, { actor, action: 'version.pin', target: `model:${model}/${version}`, before: { pinned: v.pinned }, after: { pinned } });
      await announceChange(m, { kind: 'version', model });
    });
    return this.getVersion(model, version);
  }

  /**
   * Records the state the data plane reports (the reconcile loop calls this). Not an
   * admin mutation, so no audit event; a real change is announced because routing
   * gates canaries on AVAILABLE. Returns whether anything changed.
   */
  async setState(model: string, version: number, state: VersionState, detail: string | null = null): Promise<boolean> {
    if (!VERSION_STATES.includes(state)) throw ServableError.invalid(`unknown version state ${state}`);
    return this.dataSource.transaction(async (m) => {
      const row = await m.findOneBy(ModelEntity, { name: model });
      if (!row) throw ServableError.notFound(`model "${model}" is not registered`);
      const result = await m
        .createQueryBuilder()
        .update(ModelVersionEntity)
        .set({ state, stateDetail: detail })
        .where('model_id = :id AND version = :version AND (state <> :state OR state_detail IS DISTINCT FROM :detail)', {
          id: row.id,
          version,
          state,
          detail,
        })
        .execute();
      if (!result.affected) return false;
      await announceChange(m, { kind: 'state', model });
      return true;
    });
  }

  private async lockModel(m: EntityManager, name: string): Promise<ModelEntity> {
    // The row lock orders concurrent label moves of one model.
    const row = await m.getRepository(ModelEntity).createQueryBuilder('m').setLock('pessimistic_write').where('m.name = :name', { name }).getOne();
    if (!row) throw ServableError.notFound(`model "${name}" is not registered`);
    return row;
  }

  private async labelsOf(m: EntityManager, modelId: number): Promise<Record<string, number>> {
    const rows: Array<{ label: string; version: number }> = await m.query(
      `SELECT l.label, v.version FROM version_label l JOIN model_version v ON v.id = l.version_id WHERE l.model_id = $1 ORDER BY l.label`,
      [modelId],
    );
    return Object.fromEntries(rows.map((r) => [r.label, r.version]));
  }

  private async viewsOf(models: ModelEntity[]): Promise<ModelView[]> {
    if (models.length === 0) return [];
    const ids = models.map((m) => m.id);
    const versions = await this.dataSource.getRepository(ModelVersionEntity).find({ where: { modelId: In(ids) }, order: { version: 'ASC' } });
    const labels = await this.dataSource.getRepository(VersionLabelEntity).find({ where: { modelId: In(ids) } });
    return models.map((model) => {
      const mine = versions.filter((v) => v.modelId === model.id);
      const byId = new Map(mine.map((v) => [v.id, v]));
      const labelMap: Record<string, number> = {};
      for (const l of labels.filter((x) => x.modelId === model.id).sort((a, b) => a.label.localeCompare(b.label))) {
        const v = byId.get(l.versionId);
        if (v) labelMap[l.label] = v.version;
      }
      return {
        name: model.name,
        labels: labelMap,
        versions: mine.map((v) => versionView(model.name, v, Object.keys(labelMap).filter((k) => labelMap[k] === v.version))),
      };
    });
  }
}

function sameLabels(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
