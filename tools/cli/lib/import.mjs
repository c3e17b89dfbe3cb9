import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

const INPUT_NAME = 'input_ids';
const OUTPUT_NAME = 'probabilities';
const PAD_TOKENS = ['[PAD]', '<pad>', '<PAD>', '<|pad|>'];

export class ImportError extends Error {}

function readJson(path, what) {
  if (!existsSync(path)) throw new ImportError(`${what} not found: ${path}`);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ImportError(`${what} is not JSON (${path}): ${err.message}`);
  }
}

const dims = (shape) => (shape ?? []).map((d) => (d === null || d === undefined || d < 0 ? -1 : d));

/**
 * What servable.json needs from a HuggingFace tokenizer.json: its sha256 (the pin),
 * the vocabulary size (ids must stay below it) and the pad id.
 */
export function tokenizerFacts(bytes) {
  let json;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new ImportError(`tokenizer.json is not JSON: ${err.message}`);
  }
  const vocab = json.model?.vocab;
  let maxId = -1;
  if (Array.isArray(vocab)) maxId = vocab.length - 1; // Unigram: [[piece, score], ...]
  else if (vocab && typeof vocab === 'object') maxId = Math.max(-1, ...Object.values(vocab));
  for (const t of json.added_tokens ?? []) maxId = Math.max(maxId, t.id);
  if (maxId < 0) throw new ImportError('tokenizer.json has no model.vocab: is it a HuggingFace tokenizers file?');
  const padToken = (json.added_tokens ?? []).find((t) => PAD_TOKENS.includes(t.content));
  const padId = json.padding?.pad_id ?? padToken?.id ?? 0;
  return {
    hash: createHash('sha256').update(bytes).digest('hex'),
    vocabSize: maxId + 1,
    padId,
    truncation: json.truncation?.max_length,
  };
}

/** The weights of model.json, concatenated in manifest order, as TF.js expects them in memory. */
function readWeights(dir, modelJson) {
  const groups = modelJson.weightsManifest ?? [];
  const paths = groups.flatMap((g) => g.paths ?? []);
  for (const p of paths) if (!existsSync(join(dir, p))) throw new ImportError(`model.json refers to weights file ${p}, which is not in ${dir}`);
  const buffer = Buffer.concat(paths.map((p) => readFileSync(join(dir, p))));
  return {
    paths,
    weightSpecs: groups.flatMap((g) => g.weights ?? []),
    weightData: buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength),
  };
}

function frameworkOf(modelJson) {
  if (modelJson.format === 'graph-model' || modelJson.modelTopology?.node) return 'tfjs-graph';
  if (modelJson.format === 'layers-model' || modelJson.modelTopology?.class_name || modelJson.modelTopology?.model_config) return 'tfjs-layers';
  throw new ImportError('model.json is neither a TF.js layers model nor a graph model (no "format" and no modelTopology)');
}

/** The smallest embedding's input_dim: ids at or above it would index past the table. */
function embeddingInputDim(model) {
  const dimsFound = (model.layers ?? []).filter((l) => l.getClassName?.() === 'Embedding').map((l) => l.getConfig().inputDim);
  return dimsFound.length ? Math.min(...dimsFound) : undefined;
}

// Servable's own layers (libs/model-repository/src/masked-layers.ts). Inference registers them,
// but they are TypeScript in another project and this CLI runs unbuilt, so import cannot load
// them. Only tools/train makes such models, and it already writes a version folder.
const SERVABLE_LAYERS = new Set(['HashedBigrams', 'HashedNgrams', 'MaskedPooling']);

/** TF.js's load, with its multi-line errors (a layer it does not know, bad weights) as one line. */
async function loadModel(tf, artifacts, framework) {
  try {
    return framework === 'tfjs-layers' ? await tf.loadLayersModel(tf.io.fromMemory(artifacts)) : await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  } catch (err) {
    const message = String(err?.message ?? err);
    const layer = /^Unknown layer: ([^\s.]+)/.exec(message)?.[1];
    if (layer && SERVABLE_LAYERS.has(layer)) {
      throw new ImportError(`the model uses ${layer}, one of Servable's own layers, which import cannot load: a model from tools/train is a version folder already, so upload that folder as it is (\`servable upload <dir> --tokenizer <tokenizer.json>\`)`);
    }
    if (layer) throw new ImportError(`the model uses layer ${layer}, which TF.js does not know: rewrite it with standard layers before export (docs/bring-your-own-model.md)`);
    throw new ImportError(`TF.js cannot load the model: ${message.split('\n')[0]}`);
  }
}

/**
 * Loads the model with TF.js (so a broken model fails here, not at upload) and reads
 * its signature: one input of token ids, the first output's class probabilities.
 */
async function readSignature(dir, modelJson, framework) {
  const tf = await import('@tensorflow/tfjs');
  // Prod mode drops the "install tfjs-node" banner: reading a signature needs no speed.
  tf.enableProdMode();
  const { weightSpecs, weightData } = readWeights(dir, modelJson);
  const artifacts = { modelTopology: modelJson.modelTopology, weightSpecs, weightData, format: modelJson.format, signature: modelJson.signature, userDefinedMetadata: modelJson.userDefinedMetadata };
  const model = await loadModel(tf, artifacts, framework);
  try {
    if (model.inputs.length !== 1) throw new ImportError(`the model has ${model.inputs.length} inputs; Servable feeds one: token ids [batch, sequence]`);
    const input = model.inputs[0];
    const output = model.outputs[0];
    const inputShape = dims(input.shape);
    if (inputShape.length !== 2) throw new ImportError(`the model's input has shape [${inputShape}]; Servable feeds token ids as [batch, sequence]`);
    const outputShape = dims(output.shape);
    return {
      // The gateway sends tokenized rows as int32 "input_ids" and reads "probabilities"; inference
      // feeds the model by position, so the model's own tensor names (and a float32 Keras input,
      // which Embedding casts) do not matter.
      input: { name: INPUT_NAME, dtype: 'int32', shape: [-1, inputShape[1]] },
      output: { name: OUTPUT_NAME, dtype: 'float32', shape: [-1, outputShape.at(-1) ?? -1] },
      modelNames: { input: input.name, output: output.name },
      embeddingInputDim: framework === 'tfjs-layers' ? embeddingInputDim(model) : undefined,
    };
  } finally {
    model.dispose();
  }
}

/**
 * `servable import`: a TF.js model folder + tokenizer.json become a version folder
 * (model files, tokenizer.json and servable.json) that `servable upload` registers.
 */
export async function importModel({ modelDir, tokenizerPath, labels, name, version, outDir, maxLength }) {
  const dir = resolve(modelDir);
  const modelJson = readJson(join(dir, 'model.json'), 'model.json');
  const framework = frameworkOf(modelJson);
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) throw new ImportError(`--name "${name}": model names are lower-case [a-z0-9_-]`);
  if (!Number.isInteger(version) || version <= 0) throw new ImportError(`--version must be a positive whole number`);
  if (labels.length < 2) throw new ImportError('--labels needs at least two class labels, in the order of the model\'s output columns');
  if (!existsSync(tokenizerPath)) throw new ImportError(`tokenizer.json not found: ${tokenizerPath}`);
  const tokenizerBytes = readFileSync(tokenizerPath);
  const tokenizer = tokenizerFacts(tokenizerBytes);

  const signature = await readSignature(dir, modelJson, framework);
  const classes = signature.output.shape[1];
  if (classes !== -1 && classes !== labels.length) {
    throw new ImportError(`the model's output has ${classes} classes but --labels names ${labels.length} (${labels.join(', ')})`);
  }
  if (signature.embeddingInputDim !== undefined && signature.embeddingInputDim < tokenizer.vocabSize) {
    throw new ImportError(
      `the model's embedding has ${signature.embeddingInputDim} rows but the tokenizer's vocabulary has ${tokenizer.vocabSize} ids: this tokenizer is not the one the model was trained with`,
    );
  }
  const fixed = signature.input.shape[1] > 0 ? signature.input.shape[1] : undefined;
  const max = maxLength ?? fixed ?? tokenizer.truncation ?? 128;
  if (fixed && max !== fixed) throw new ImportError(`--max-length ${max} differs from the model's fixed sequence length ${fixed}`);

  const manifest = {
    format: 'servable.model/v1',
    name,
    version,
    framework,
    signature: { inputs: [signature.input], outputs: [signature.output] },
    labels,
    tokenizer: { hash: tokenizer.hash, vocab_size: tokenizer.vocabSize, pad_id: tokenizer.padId },
    max_length: max,
    lineage: { imported_from: basename(dir), imported_with: 'servable import', imported_at: new Date().toISOString(), model_tensors: signature.modelNames },
  };

  const out = resolve(outDir);
  if (existsSync(out) && readdirSync(out).length) throw new ImportError(`--out ${out} exists and is not empty`);
  mkdirSync(out, { recursive: true });
  copyFileSync(join(dir, 'model.json'), join(out, 'model.json'));
  for (const p of (modelJson.weightsManifest ?? []).flatMap((g) => g.paths ?? [])) copyFileSync(join(dir, p), join(out, basename(p)));
  writeFileSync(join(out, 'tokenizer.json'), tokenizerBytes);
  writeFileSync(join(out, 'servable.json'), JSON.stringify(manifest, null, 2) + '\n');
  return { outDir: out, manifest };
}
