import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, ServableError, sha256Hex } from '@servable/contracts';
import { parseManifest, type ModelManifest } from '@servable/model-repository';
import { QueryFailedError, type DataSource, type EntityManager } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import { announceChange } from '../changes/change-notifier';
import { ModelVersionEntity, RolloutEntity, VersionLabelEntity } from '../entities';
import { artifactChecksumOf } from './artifact-checksum';
import { ensureModel, ensureTokenizer, labelLatestStable, versionRow } from './repository-import';
import { checkTokenizerMatches, tokenizerVocabulary } from './tokenizer-vocabulary';

export interface UploadedFile {
  /** A plain file name: model.json, group1-shard1of1.bin, servable.json. */
  name: string;
  bytes: Buffer;
}

export interface VersionUpload {
  /** The model named by the URL; servable.json must agree. */
  model: string;
  /** The version's files, servable.json among them. */
  files: UploadedFile[];
  /** tokenizer.json, which must hash to servable.json's tokenizer.hash. */
  tokenizer: Buffer;
}

/**
 * Loads the staged version (and its tokenizer.json, as the tokenizer service will) and answers a
 * warm-up prediction, or throws saying why not.
 * Only something that can run the model can do this: the gateway runs
 * @servable/model-repository/tfjs's tfjsWarmUp in a worker thread.
 */
export type LoadValidator = (dir: string, manifest: ModelManifest, tokenizer: Uint8Array) => Promise<void>;

const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
/** PostgreSQL's SQLSTATE for unique_violation. */
const UNIQUE_VIOLATION = '23505';

/**
 * Everything that can be checked without touching the disk; returns the parsed manifest.
 * The start-up import (repository-import.ts) reads files, not an upload, and applies the
 * servable.json and tokenizer checks itself.
 */
export function checkUpload(upload: VersionUpload): ModelManifest {
  const names = new Set<string>();
  for (const f of upload.files) {
    if (!FILE_NAME.test(f.name) || f.name.length > 200) throw ServableError.invalid(`file name "${f.name}" is not a plain file name`);
    if (names.has(f.name)) throw ServableError.invalid(`file "${f.name}" is uploaded twice`);
    names.add(f.name);
  }
  const servable = upload.files.find((f) => f.name === 'servable.json');
  if (!servable) throw ServableError.invalid('the upload has no servable.json');
  const manifest = parseManifest(parseJson(servable.bytes, 'servable.json'), 'servable.json');
  if (manifest.name !== upload.model) {
    throw ServableError.invalid(`servable.json names model "${manifest.name}" but the upload is for "${upload.model}"`);
  }
  const actual = sha256Hex(upload.tokenizer);
  if (actual !== manifest.tokenizer.hash) {
    throw new ServableError(
      ErrorCode.FAILED_PRECONDITION,
      `tokenizer mismatch: tokenizer.json hashes to ${actual} but servable.json declares ${manifest.tokenizer.hash}`,
    );
  }
  checkTokenizerMatches(manifest, tokenizerVocabulary(upload.tokenizer));
  if (manifest.framework !== 'tf-saved-model') {
    const modelJson = upload.files.find((f) => f.name === 'model.json');
    if (!modelJson) throw ServableError.invalid(`a ${manifest.framework} version needs model.json`);
    const topology = parseJson(modelJson.bytes, 'model.json') as { weightsManifest?: Array<{ paths?: string[] }> };
    const weights = (topology.weightsManifest ?? []).flatMap((g) => g.paths ?? []);
    for (const path of weights) {
      if (!names.has(path)) throw ServableError.invalid(`model.json refers to weights file "${path}", which is not in the upload`);
    }
    // Nothing else is served from a version folder, and a stray file (notes, a key, a symlink's target) would be kept for good.
    const part = new Set(['servable.json', 'model.json', ...weights]);
    const strays = [...names].filter((name) => !part.has(name));
    if (strays.length > 0) {
      throw ServableError.invalid(`${strays.map((n) => `"${n}"`).join(', ')} ${strays.length === 1 ? 'is' : 'are'} not part of the model: a version holds servable.json, model.json and the weight files model.json names`);
    }
  }
  return manifest;
}

function parseJson(bytes: Buffer, name: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw ServableError.invalid(`${name} is not JSON: ${(err as Error).message}`);
  }
}

/**
 * Registers an uploaded version so that it is either fully there or not at all.
 *   1. check names, servable.json, the tokenizer (hash, vocabulary size, pad id) and
 *      model.json's weight files;
 *   2. write to <root>/.staging/<random> (same filesystem as the repository, so the
 *      final rename is atomic) and let the validator load and warm it up;
 *   3. in one transaction insert the rows and the audit event, then rename the staged
 *      directory into <root>/<model>/<version> as the last step before commit.
 * Any failure removes the staging directory and whatever the rename put in place, and
 * the transaction rolls the rows back.
 */
export async function registerVersion(
  dataSource: DataSource,
  audit: AuditService,
  root: string,
  upload: VersionUpload,
  validate: LoadValidator,
  actor: string,
  pin: boolean,
): Promise<{ model: string; version: number }> {
  const manifest = checkUpload(upload);
  const { name: model, version } = manifest;
  const finalDir = join(root, model, String(version));
  const tokenizerPath = join(root, 'tokenizers', `${manifest.tokenizer.hash}.json`);
  await assertNew(dataSource, model, version, finalDir);

  const staging = join(root, '.staging', `${model}-${version}-${randomBytes(6).toString('hex')}`);
  const stagedTokenizer = `${staging}.tokenizer.json`;
  let movedDir = false;
  let movedTokenizer = false;
  try {
    await mkdir(staging, { recursive: true });
    for (const f of upload.files) await writeFile(join(staging, f.name), f.bytes);
    try {
      await validate(staging, manifest, upload.tokenizer);
    } catch (err) {
      throw new ServableError(ErrorCode.FAILED_PRECONDITION, `${model}/${version} did not load and answer a warm-up prediction: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const checksum = artifactChecksumOf(upload.files);
    await registering(model, version, dataSource.transaction(async (m) => {
      const row = await ensureModel(m, model);
      await ensureTokenizer(m, manifest, upload.tokenizer);
      const stableLabel = await holdTraffic(m, row.id);
      await m.insert(ModelVersionEntity, versionRow(row.id, manifest, checksum, 'upload', pin));
      // A model's first version (a new model) is its first import: stable is that version.
      const firstStable = stableLabel === null ? await labelLatestStable(m, row.id) : undefined;
      await audit.record(m, {
        actor,
        action: 'version.register',
        target: `model:${model}/${version}`,
        after: {
          version,
          artifactSha256: checksum,
          tokenizerHash: manifest.tokenizer.hash,
          pinned: pin,
          ...(stableLabel ? { stableLabel } : firstStable !== undefined ? { stableLabel: firstStable } : {}),
        },
      });
      await announceChange(m, { kind: 'version', model });
      await mkdir(join(root, model), { recursive: true });
      if (!existsSync(tokenizerPath)) {
        await mkdir(join(root, 'tokenizers'), { recursive: true });
        await writeFile(stagedTokenizer, upload.tokenizer);
        await rename(stagedTokenizer, tokenizerPath);
        movedTokenizer = true;
      }
      await rename(staging, finalDir);
      movedDir = true;
    }));
  } catch (err) {
    if (movedDir) await rm(finalDir, { recursive: true, force: true });
    if (movedTokenizer) await rm(tokenizerPath, { force: true });
    throw err;
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(stagedTokenizer, { force: true });
  }
  return { model, version };
}

/**
 * An upload never takes traffic by itself. A model that routes by "latest" (no `stable`
 * label, no rollout naming a stable version) would send everything to the new version
 * once AVAILABLE, so before it is inserted `stable` is pinned to what the model serves
 * now: the highest AVAILABLE version, else the highest registered one. Returns the version
 * labelled here, undefined when the model already had a stable, or null when the model has
 * no version yet (the upload is its first).
 */
async function holdTraffic(m: EntityManager, modelId: number): Promise<number | undefined | null> {
  const stable = await m.findOneBy(VersionLabelEntity, { modelId, label: 'stable' });
  const rollout = await m.findOneBy(RolloutEntity, { modelId });
  if (stable || rollout?.stableVersion) return undefined;
  const versions = await m.find(ModelVersionEntity, { where: { modelId }, order: { version: 'DESC' } });
  if (versions.length === 0) return null;
  const serving = versions.find((v) => v.state === 'AVAILABLE') ?? versions[0];
  await m.upsert(VersionLabelEntity, { modelId, label: 'stable', versionId: serving.id }, ['modelId', 'label']);
  return serving.version;
}

function alreadyRegistered(model: string, version: number): ServableError {
  return new ServableError(ErrorCode.FAILED_PRECONDITION, `${model}/${version} is already registered; versions are immutable, upload a new version number`);
}

/** Refuses a version that exists, before its files are written and warmed up. */
async function assertNew(dataSource: DataSource, model: string, version: number, dir: string): Promise<void> {
  const rows: unknown[] = await dataSource.query(
    `SELECT 1 FROM model_version v JOIN model m ON m.id = v.model_id WHERE m.name = $1 AND v.version = $2`,
    [model, version],
  );
  if (rows.length > 0 || existsSync(dir)) throw alreadyRegistered(model, version);
}

/**
 * assertNew runs before the warm-up, outside the transaction, so two uploads of one version
 * can both pass it; the unique index then refuses the later insert. That is the same
 * conflict, and the caller gets the same answer as if the uploads had come one by one.
 */
async function registering(model: string, version: number, transaction: Promise<void>): Promise<void> {
  try {
    await transaction;
  } catch (err) {
    const driverError = err instanceof QueryFailedError ? (err.driverError as { code?: string; constraint?: string }) : undefined;
    if (driverError?.code === UNIQUE_VIOLATION && driverError.constraint === 'uq_model_version') throw alreadyRegistered(model, version);
    throw err;
  }
}

/**
 * An upload is staged, checked and renamed within minutes; a staging entry this old was left by a
 * process that died. Younger ones may be another gateway's upload in progress on a shared volume.
 */
const STALE_STAGING_MS = 60 * 60 * 1000;

/**
 * Removes staging entries a crash left behind; call at start-up before importing. Only old ones:
 * gateways that share a repository (a ReadWriteMany volume) stage there side by side, and one
 * gateway's start used to delete the others' uploads in progress.
 */
export async function cleanStaging(root: string, now = Date.now()): Promise<void> {
  const dir = join(root, '.staging');
  const entries = await readdir(dir).catch(() => [] as string[]);
  for (const name of entries) {
    const path = join(dir, name);
    const stats = await stat(path).catch(() => undefined);
    if (stats && now - stats.mtimeMs > STALE_STAGING_MS) await rm(path, { recursive: true, force: true });
  }
}
