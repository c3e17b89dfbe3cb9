import { sha256Hex } from '@servable/contracts';
import type { ModelManifest, ModelRepository } from '@servable/model-repository';
import type { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import { announceChange } from '../changes/change-notifier';
import { ModelEntity, ModelVersionEntity, RolloutEntity, TokenizerEntity, VersionLabelEntity } from '../entities';
import { artifactChecksum } from './artifact-checksum';
import { checkTokenizerMatches, tokenizerVocabulary } from './tokenizer-vocabulary';

export interface ImportReport {
  /** "<model>/<version>" newly registered. */
  added: string[];
  /** Already registered with the same artifact checksum. */
  unchanged: string[];
  /** Already registered, but the files on disk changed since: left as registered, logged by the caller. */
  changedOnDisk: string[];
  failed: Array<{ version: string; error: string }>;
}

/** Creates the model row if needed and returns it; safe against a concurrent replica doing the same. */
export async function ensureModel(m: EntityManager, name: string): Promise<ModelEntity> {
  await m.createQueryBuilder().insert().into(ModelEntity).values({ name }).orIgnore().execute();
  return m.findOneByOrFail(ModelEntity, { name });
}

export async function ensureTokenizer(m: EntityManager, manifest: ModelManifest, bytes: Uint8Array): Promise<void> {
  const hash = manifest.tokenizer.hash;
  await m
    .createQueryBuilder()
    .insert()
    .into(TokenizerEntity)
    .values({ hash, vocabSize: manifest.tokenizer.vocab_size, sizeBytes: bytes.byteLength, path: `tokenizers/${hash}.json` })
    .orIgnore()
    .execute();
}

export function versionRow(
  modelId: number,
  manifest: ModelManifest,
  checksum: string,
  source: 'import' | 'upload',
  pinned: boolean,
): QueryDeepPartialEntity<ModelVersionEntity> {
  const row: Partial<ModelVersionEntity> = {
    modelId,
    version: manifest.version,
    framework: manifest.framework,
    artifactPath: `${manifest.name}/${manifest.version}`,
    artifactSha256: checksum,
    tokenizerHash: manifest.tokenizer.hash,
    signature: manifest.signature as unknown as Record<string, unknown>,
    classLabels: manifest.labels,
    maxLength: manifest.max_length,
    evaluation: (manifest.evaluation ?? null) as Record<string, unknown> | null,
    // The parsed manifest, nothing added: the gateway parses it back with the same schema.
    manifest,
    state: 'START' as const,
    stateDetail: null,
    pinned,
    source,
  };
  return row as QueryDeepPartialEntity<ModelVersionEntity>;
}

/**
 * Registers what the model repository holds and the database does not. A registered
 * version is never rewritten, so a second import changes nothing and writes no audit.
 * A model imported with nothing naming it (no label, rollout or pin) gets the versions
 * found pinned, as the inference service's default policy ("all") would load them, so
 * the reconcile loop loads something to serve and every version can take a canary.
 * The first import of a model also points `stable` at its latest version, so a version
 * added later (an upload) takes no traffic until a label move, a rollout or a canary run.
 */
export async function importRepository(dataSource: DataSource, audit: AuditService, repo: ModelRepository, actor: string): Promise<ImportReport> {
  const report: ImportReport = { added: [], unchanged: [], changedOnDisk: [], failed: [] };
  for (const model of await repo.listModels()) {
    const versions = await repo.listVersions(model).catch(() => [] as number[]);
    const existing = await dataSource.query(
      `SELECT v.version, v.artifact_sha256 AS sha FROM model_version v JOIN model m ON m.id = v.model_id WHERE m.name = $1`,
      [model],
    ) as Array<{ version: number; sha: string }>;
    const known = new Map(existing.map((r) => [r.version, r.sha]));
    const fresh: Array<{ manifest: ModelManifest; tokenizer: Buffer; checksum: string }> = [];
    for (const version of versions) {
      const id = `${model}/${version}`;
      try {
        const checksum = await artifactChecksum(repo.versionDir(model, version));
        if (known.has(version)) {
          (known.get(version) === checksum ? report.unchanged : report.changedOnDisk).push(id);
          continue;
        }
        const manifest = await repo.readManifest(model, version);
        const tokenizer = await repo.readTokenizer(manifest.tokenizer.hash);
        // As an upload is checked: a version whose servable.json misdescribes its tokenizer would register and then refuse every text.
        checkTokenizerMatches(manifest, tokenizerVocabulary(tokenizer));
        fresh.push({ manifest, tokenizer, checksum });
      } catch (err) {
        report.failed.push({ version: id, error: (err as Error).message });
      }
    }
    if (fresh.length === 0) continue;
    await dataSource.transaction(async (m) => {
      const row = await ensureModel(m, model);
      const named =
        (await m.countBy(VersionLabelEntity, { modelId: row.id })) +
        (await m.countBy(RolloutEntity, { modelId: row.id })) +
        (await m.countBy(ModelVersionEntity, { modelId: row.id, pinned: true }));
      for (const f of fresh) {
        if (sha256Hex(f.tokenizer) !== f.manifest.tokenizer.hash) continue; // readTokenizer already refused it
        await ensureTokenizer(m, f.manifest, f.tokenizer);
        const pinned = named === 0;
        await m.insert(ModelVersionEntity, versionRow(row.id, f.manifest, f.checksum, 'import', pinned));
        report.added.push(`${model}/${f.manifest.version}`);
      }
      const stableLabel = named === 0 && known.size === 0 ? await labelLatestStable(m, row.id) : undefined;
      await audit.record(m, {
        actor,
        action: 'registry.import',
        target: `model:${model}`,
        after: { versions: fresh.map((f) => f.manifest.version), ...(stableLabel !== undefined ? { stableLabel } : {}) },
      });
      await announceChange(m, { kind: 'import', model });
    });
  }
  return report;
}

/**
 * Points `stable` at the model's highest registered version and returns it. Not through
 * registry.setLabels: that only accepts AVAILABLE versions, and at import nothing is loaded
 * yet; routing serves the label once the reconcile loop has loaded it.
 */
export async function labelLatestStable(m: EntityManager, modelId: number): Promise<number | undefined> {
  const latest = await m.findOne(ModelVersionEntity, { where: { modelId }, order: { version: 'DESC' } });
  if (!latest) return undefined;
  await m.upsert(VersionLabelEntity, { modelId, label: 'stable', versionId: latest.id }, ['modelId', 'label']);
  return latest.version;
}
