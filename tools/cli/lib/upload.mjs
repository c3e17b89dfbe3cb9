import { ClientError } from './client.mjs';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const TOKENIZER_FILE = 'tokenizer.json';

/**
 * The files of a version: servable.json, model.json and the weight files it names, which is
 * all the gateway takes (it refuses any other file). Without a readable model.json, every
 * file of the folder, for the gateway to say what is wrong.
 */
function modelFiles(root) {
  const modelJson = join(root, 'model.json');
  let weights;
  try {
    weights = (JSON.parse(readFileSync(modelJson, 'utf8')).weightsManifest ?? []).flatMap((g) => g.paths ?? []);
  } catch {
    return readdirSync(root).filter((f) => f !== TOKENIZER_FILE && statSync(join(root, f)).isFile());
  }
  for (const path of weights) if (!existsSync(join(root, path))) throw new ClientError(`model.json names weights file ${path}, which is not in ${root}`);
  return ['servable.json', 'model.json', ...weights];
}

/**
 * A version folder as the admin API's multipart upload: the model's files as `files`,
 * tokenizer.json (in the folder, or given) as `tokenizer`. Other files (notes, a README) stay behind.
 */
export function uploadForm(dir, tokenizerPath) {
  const root = resolve(dir);
  const manifestPath = join(root, 'servable.json');
  if (!existsSync(manifestPath)) throw new ClientError(`${root} has no servable.json: run \`servable import\` first, or see docs/model.md`);
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (err) {
    throw new ClientError(`${manifestPath} is not JSON: ${err.message}`);
  }
  const tokenizer = tokenizerPath ? resolve(tokenizerPath) : join(root, TOKENIZER_FILE);
  if (!existsSync(tokenizer)) throw new ClientError(`no tokenizer.json in ${root}: pass --tokenizer <file>`);
  const form = new FormData();
  const names = modelFiles(root);
  for (const name of names) form.append('files', new Blob([readFileSync(join(root, name))]), name);
  form.append('tokenizer', new Blob([readFileSync(tokenizer)]), TOKENIZER_FILE);
  return { form, manifest, files: names };
}
