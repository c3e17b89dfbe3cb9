import { existsSync, statSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ErrorCode, ServableError, sha256Hex } from '@servable/contracts';
import { parseManifest, type ModelManifest } from './manifest';

const HASH = /^[0-9a-f]{64}$/;

/**
 * The repository root as an absolute path, or an error naming it when it is not a directory. A
 * service checks it at start-up: the listings below read a missing folder as an empty one (a
 * repository may be empty at first), so a mistyped MODEL_REPOSITORY would otherwise give a service
 * that is up, ready and serves nothing.
 */
export function existingRepositoryRoot(root: string): string {
  const path = resolve(root);
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) throw new Error(`MODEL_REPOSITORY ${path} ${stat ? 'is not a directory' : 'does not exist'}`);
  return path;
}

/**
 * The model repository: TF Serving's base_path layout plus one manifest.
 *   <root>/<model>/<version>/servable.json, model.json, *.bin
 *   <root>/tokenizers/<sha256>.json
 * Every service reads it through this class, so object storage can replace
 * the folder later without touching them.
 */
export class ModelRepository {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async listModels(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isDirectory() && e.name !== 'tokenizers' && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  }

  /** Version numbers that have a servable.json, ascending. */
  async listVersions(model: string): Promise<number[]> {
    const entries = await readdir(join(this.root, model), { withFileTypes: true }).catch(() => {
      throw ServableError.notFound(`model "${model}" is not in the repository ${this.root}`);
    });
    return entries
      .filter((e) => e.isDirectory() && /^[1-9][0-9]*$/.test(e.name) && existsSync(join(this.root, model, e.name, 'servable.json')))
      .map((e) => Number(e.name))
      .sort((a, b) => a - b);
  }

  versionDir(model: string, version: number): string {
    return join(this.root, model, String(version));
  }

  async readManifest(model: string, version: number): Promise<ModelManifest> {
    const path = join(this.versionDir(model, version), 'servable.json');
    const text = await readFile(path, 'utf8').catch(() => {
      throw ServableError.notFound(`model "${model}" has no version ${version} (${path})`);
    });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw ServableError.invalid(`${path} is not JSON: ${(err as Error).message}`);
    }
    const manifest = parseManifest(json, path);
    if (manifest.name !== model || manifest.version !== version) {
      throw new ServableError(
        ErrorCode.FAILED_PRECONDITION,
        `${path} declares ${manifest.name}/${manifest.version} but lives in ${model}/${version}`,
      );
    }
    return manifest;
  }

  tokenizerPath(hash: string): string {
    return join(this.root, 'tokenizers', `${hash}.json`);
  }

  /** The tokenizer.json bytes, refused unless they hash to the name. */
  async readTokenizer(hash: string): Promise<Buffer> {
    if (!HASH.test(hash)) throw ServableError.invalid(`tokenizer hash must be 64 lower-case hex characters, got "${hash}"`);
    const path = this.tokenizerPath(hash);
    const bytes = await readFile(path).catch(() => {
      throw ServableError.notFound(`tokenizer ${hash} is not in the repository (${path})`);
    });
    const actual = sha256Hex(bytes);
    if (actual !== hash) {
      throw new ServableError(ErrorCode.FAILED_PRECONDITION, `tokenizer file ${path} hashes to ${actual}, not to its name ${hash}`);
    }
    return bytes;
  }
}

