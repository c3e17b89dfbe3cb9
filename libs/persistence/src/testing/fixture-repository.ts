import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { UploadedFile } from '../registry/version-upload';

/** The model repository that ships with the project (spam v1, v2 and their tokenizer). */
export const SHIPPED_MODELS = resolve(import.meta.dirname, '../../../../models');

/** A scratch copy of the shipped repository, so tests can write to it. */
export function copyRepository(): { root: string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), 'servable-repo-'));
  cpSync(join(SHIPPED_MODELS, 'spam'), join(root, 'spam'), { recursive: true });
  mkdirSync(join(root, 'tokenizers'));
  cpSync(join(SHIPPED_MODELS, 'tokenizers'), join(root, 'tokenizers'), { recursive: true });
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** spam v1's files re-labelled as another version, as an upload would carry them. */
export function uploadOf(root: string, asVersion: number): { files: UploadedFile[]; tokenizer: Buffer } {
  const dir = join(root, 'spam', '1');
  const files = readdirSync(dir).map((name) => {
    let bytes = readFileSync(join(dir, name));
    if (name === 'servable.json') bytes = Buffer.from(JSON.stringify({ ...JSON.parse(bytes.toString('utf8')), version: asVersion }));
    return { name, bytes };
  });
  const manifest = JSON.parse(readFileSync(join(dir, 'servable.json'), 'utf8')) as { tokenizer: { hash: string } };
  return { files, tokenizer: readFileSync(join(root, 'tokenizers', `${manifest.tokenizer.hash}.json`)) };
}
