import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ErrorCode, ServableError, sha256Hex } from '@servable/contracts';
import { fileSystemIO } from './fs-io-handler';
import { manifestSchema, parseManifest } from './manifest';
import { HashedBigrams, HashedNgrams, MaskedPooling, registerCustomLayers } from './masked-layers';
import { ModelRepository } from './model-repository';
import { loadTfModel } from './tf-model';
import { initWasmBackend } from './tfjs-backend';

const manifest = (over: Record<string, unknown> = {}) => ({
  format: 'servable.model/v1',
  name: 'toy',
  version: 1,
  framework: 'tfjs-layers',
  signature: {
    inputs: [{ name: 'input_ids', dtype: 'int32', shape: [-1, -1] }],
    outputs: [{ name: 'probabilities', dtype: 'float32', shape: [-1, 2] }],
  },
  labels: ['ham', 'spam'],
  tokenizer: { hash: 'a'.repeat(64), vocab_size: 10, pad_id: 0 },
  max_length: 16,
  ...over,
});

async function expectCode(p: Promise<unknown>, code: ErrorCode, message: RegExp) {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ServableError);
  expect((err as ServableError).code).toBe(code);
  expect((err as ServableError).message).toMatch(message);
}

describe('model repository', () => {
  beforeAll(async () => {
    await initWasmBackend();
    registerCustomLayers();
  });

  it('round-trips a layers model with a custom layer through the filesystem IOHandler', async () => {
    const ids = tf.input({ shape: [null], dtype: 'int32' });
    const emb = tf.layers.embedding({ inputDim: 10, outputDim: 4 }).apply(ids) as tf.SymbolicTensor;
    const pooled = new MaskedPooling({ mode: 'conv', filters: 3, kernelSize: 3 }).apply([emb, ids]) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2, activation: 'softmax' }).apply(pooled) as tf.SymbolicTensor;
    const model = tf.model({ inputs: ids, outputs: out });
    const dir = mkdtempSync(join(tmpdir(), 'io-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    await model.save(fileSystemIO(dir));
    const loaded = (await loadTfModel(dir, parseManifest(manifest()))) as tf.LayersModel;
    const x = tf.tensor2d([[1, 2, 3, 0]], [1, 4], 'int32');
    expect([...(loaded.predict(x) as tf.Tensor).dataSync()]).toEqual([...(model.predict(x) as tf.Tensor).dataSync()]);
  });

  it('reads weights split over several shards, in the manifest\'s order', async () => {
    const ids = tf.input({ shape: [null], dtype: 'int32' });
    const emb = tf.layers.embedding({ inputDim: 10, outputDim: 4 }).apply(ids) as tf.SymbolicTensor;
    const pooled = tf.layers.globalAveragePooling1d().apply(emb) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2, activation: 'softmax' }).apply(pooled) as tf.SymbolicTensor;
    const model = tf.model({ inputs: ids, outputs: out });
    const dir = mkdtempSync(join(tmpdir(), 'io-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    await model.save(fileSystemIO(dir));
    // Three shards of uneven size, as tensorflowjs_converter writes (4 MB each by default).
    const weights = readFileSync(join(dir, 'weights.bin'));
    const cuts = [0, 7, 100, weights.length];
    const paths = cuts.slice(1).map((_, i) => `group1-shard${i + 1}of3.bin`);
    paths.forEach((p, i) => writeFileSync(join(dir, p), weights.subarray(cuts[i], cuts[i + 1])));
    rmSync(join(dir, 'weights.bin'));
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    json.weightsManifest[0].paths = paths;
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));

    const artifacts = await fileSystemIO(dir).load();
    expect(Buffer.from(artifacts.weightData as ArrayBuffer).equals(weights)).toBe(true);
    const loaded = (await loadTfModel(dir, parseManifest(manifest()))) as tf.LayersModel;
    const x = tf.tensor2d([[1, 2, 3, 0]], [1, 4], 'int32');
    expect([...(loaded.predict(x) as tf.Tensor).dataSync()]).toEqual([...(model.predict(x) as tf.Tensor).dataSync()]);
  });

  it('hashes token bigrams into [1, buckets) and gives padding and the last token 0', () => {
    const ids = tf.tensor2d([[5, 6, 7, 0, 0], [9, 8, 0, 0, 0]], [2, 5], 'int32');
    const out = new HashedBigrams({ buckets: 100 }).apply(ids) as tf.Tensor;
    const rows = out.arraySync() as number[][];
    const h = (a: number, b: number) => ((a * 8191 + b) % 99) + 1;
    expect(rows).toEqual([
      [h(5, 6), h(6, 7), 0, 0, 0],
      [h(9, 8), 0, 0, 0, 0],
    ]);
    expect(out.dtype).toBe('int32');
    expect(() => new HashedBigrams({ buckets: 1 })).toThrow(/buckets/);
  });

  it('hashes token bigrams and trigrams into [1, buckets), one order after the other, and gives padding and the last tokens 0', () => {
    const ids = tf.tensor2d([[5, 6, 7, 0, 0], [9, 8, 0, 0, 0]], [2, 5], 'int32');
    const out = new HashedNgrams({ buckets: 100, orders: [2, 3] }).apply(ids) as tf.Tensor;
    const rows = out.arraySync() as number[][];
    const h = (...t: number[]) => t.slice(1).reduce((acc, x) => (acc * 8191 + x) % 99, t[0]) + 1;
    expect(rows).toEqual([
      [h(5, 6), h(6, 7), 0, 0, 0, h(5, 6, 7), 0, 0, 0, 0],
      [h(9, 8), 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ]);
    expect(out.dtype).toBe('int32');
    // Bigrams alone are exactly HashedBigrams, and a row shorter than the order gives zeros, not an error.
    expect((new HashedNgrams({ buckets: 100 }).apply(ids) as tf.Tensor).arraySync()).toEqual((new HashedBigrams({ buckets: 100 }).apply(ids) as tf.Tensor).arraySync());
    expect((new HashedNgrams({ buckets: 100, orders: [3] }).apply(tf.tensor2d([[4]], [1, 1], 'int32')) as tf.Tensor).arraySync()).toEqual([[0]]);
    // The largest trigram table stays inside int32: the same bucket as exact integer arithmetic.
    const big = (new HashedNgrams({ buckets: 1 << 18, orders: [3] }).apply(tf.tensor2d([[65535, 65534, 65533]], [1, 3], 'int32')) as tf.Tensor).arraySync() as number[][];
    expect(big[0][0]).toBe(Number((((65535n * 8191n + 65534n) % 262143n) * 8191n + 65533n) % 262143n) + 1);
    expect(() => new HashedNgrams({ buckets: 1 })).toThrow(/buckets/);
    expect(() => new HashedNgrams({ buckets: (1 << 18) + 1, orders: [2, 3] })).toThrow(/buckets/);
    expect(() => new HashedNgrams({ buckets: 64, orders: [1] })).toThrow(/orders/);
  });

  it.each([
    { what: 'hashed bigrams', layer: () => new HashedBigrams({ buckets: 64 }), tokens: [1, 2, 3] },
    { what: 'hashed n-grams', layer: () => new HashedNgrams({ buckets: 64, orders: [2, 3] }), tokens: [1, 2, 3, 4] },
  ])('round-trips a bag of tokens and $what, and padding leaves its output alone', async ({ layer, tokens }) => {
    const ids = tf.input({ shape: [null], dtype: 'int32' });
    const pooled = new MaskedPooling({ mode: 'mean' }).apply([tf.layers.embedding({ inputDim: 10, outputDim: 4 }).apply(ids) as tf.SymbolicTensor, ids]) as tf.SymbolicTensor;
    const ngramIds = layer().apply(ids) as tf.SymbolicTensor;
    const ngrams = new MaskedPooling({ mode: 'mean' }).apply([tf.layers.embedding({ inputDim: 64, outputDim: 4 }).apply(ngramIds) as tf.SymbolicTensor, ngramIds]) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2, activation: 'softmax' }).apply(tf.layers.concatenate().apply([pooled, ngrams]) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const model = tf.model({ inputs: ids, outputs: out });
    const dir = mkdtempSync(join(tmpdir(), 'io-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    await model.save(fileSystemIO(dir));
    const loaded = (await loadTfModel(dir, parseManifest(manifest()))) as tf.LayersModel;
    const tight = tf.tensor2d([tokens], [1, tokens.length], 'int32');
    const wide = tf.tensor2d([[...tokens, 0, 0, 0]], [1, tokens.length + 3], 'int32');
    const expected = [...(model.predict(tight) as tf.Tensor).dataSync()];
    expect([...(loaded.predict(tight) as tf.Tensor).dataSync()]).toEqual(expected);
    [...(loaded.predict(wide) as tf.Tensor).dataSync()].forEach((p, i) => expect(p).toBeCloseTo(expected[i], 6));
  });

  it('names every wrong field of servable.json', () => {
    expect(() => parseManifest(manifest({ framework: 'onnx', labels: ['only'] }))).toThrow(/framework.*labels|labels.*framework/s);
    expect(() => parseManifest(manifest({ tokenizer: { hash: 'nope', vocab_size: 10, pad_id: 0 } }))).toThrow(/tokenizer\.hash/);
    expect(() => parseManifest(manifest({ labels: ['a', 'b', 'c'] }))).toThrow(/2 classes but 3 labels/);
    expect(() => parseManifest(manifest({ batching: { max_batch_sise: 8 } }))).toThrow(/batching.*max_batch_sise/);
    expect(() => parseManifest(manifest({ batching: { max_batch_size: 0 } }))).toThrow(/batching\.max_batch_size/);
    // Each column of the answer is named by its label: a repeated one would hide a column.
    expect(() => parseManifest(manifest({ labels: ['ham', 'ham'] }))).toThrow('servable.json is not valid: labels must be distinct, but "ham" appears more than once');
    // A fixed sequence length bounds max_length: inference pads every batch to it.
    const fixedInput = (seq: number) => ({ ...manifest().signature, inputs: [{ name: 'input_ids', dtype: 'int32', shape: [-1, seq] }] });
    expect(() => parseManifest(manifest({ signature: fixedInput(64), max_length: 128 }))).toThrow('max_length 128 is over the sequence length 64 that input input_ids fixes');
    expect(parseManifest(manifest({ signature: fixedInput(64), max_length: 64 })).max_length).toBe(64);
    expect(() => parseManifest(manifest({ labels: ['a', 'b', 'a', 'b'], signature: { ...manifest().signature, outputs: [{ name: 'probabilities', dtype: 'float32', shape: [-1, 4] }] } }))).toThrow(/"a", "b" appears/);
    // The control plane keeps these in int32 columns.
    expect(() => parseManifest(manifest({ version: 99_999_999_999 }))).toThrow(/version: Too big/);
    expect(() => parseManifest(manifest({ max_length: 2 ** 31 }))).toThrow(/max_length: Too big/);
    // Inference warms up at max_length: past what the tokenizer encodes, it only costs memory.
    expect(() => parseManifest(manifest({ max_length: 2 ** 31 - 1 }))).toThrow('max_length 2147483647 is over 8192, the longest sequence the tokenizer encodes');
    expect(parseManifest(manifest({ max_length: 8192 })).max_length).toBe(8192);
    expect(manifestSchema.parse(manifest({ max_length: 9000 })).max_length).toBe(9000); // a stored one still reads back
  });

  it('adds nothing servable.json leaves out, so the serving environment can fill it', () => {
    expect(parseManifest(manifest()).batching).toBeUndefined();
    expect(parseManifest(manifest({ batching: { max_batch_size: 8 } })).batching).toEqual({ max_batch_size: 8 });
    // What the control plane stores is what parses back to the same value (Postgres snapshot → gateway).
    const parsed = parseManifest(manifest({ batching: { batch_timeout_micros: 0 }, evaluation: { accuracy: 0.9 } }));
    expect(parseManifest(JSON.parse(JSON.stringify(parsed)))).toEqual(parsed);
  });

  it('lists versions, reads manifests and refuses a tokenizer whose bytes do not match its name', async () => {
    const root = mkdtempSync(join(tmpdir(), 'repo-'));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(join(root, 'toy', '1'), { recursive: true });
    mkdirSync(join(root, 'toy', '7'), { recursive: true });
    mkdirSync(join(root, 'tokenizers'));
    writeFileSync(join(root, 'toy', '1', 'servable.json'), JSON.stringify(manifest()));
    const good = '{"tokenizer":true}';
    writeFileSync(join(root, 'tokenizers', `${sha256Hex(good)}.json`), good);
    writeFileSync(join(root, 'tokenizers', `${'b'.repeat(64)}.json`), good);
    const repo = new ModelRepository(root);
    expect(await repo.listModels()).toEqual(['toy']);
    expect(await repo.listVersions('toy')).toEqual([1]);
    expect((await repo.readManifest('toy', 1)).labels).toEqual(['ham', 'spam']);
    expect((await repo.readTokenizer(sha256Hex(good))).toString()).toBe(good);
    await expectCode(repo.readTokenizer('b'.repeat(64)), ErrorCode.FAILED_PRECONDITION, /hashes to/);
    await expectCode(repo.readTokenizer('c'.repeat(64)), ErrorCode.NOT_FOUND, /not in the repository/);
    await expectCode(repo.readManifest('toy', 2), ErrorCode.NOT_FOUND, /no version 2/);
    await expectCode(repo.listVersions('nope'), ErrorCode.NOT_FOUND, /not in the repository/);
  });

  it('fails a SavedModel with a message that says how to enable it', async () => {
    await expectCode(loadTfModel('/nowhere', parseManifest(manifest({ framework: 'tf-saved-model' }))), ErrorCode.FAILED_PRECONDITION, /install @tensorflow\/tfjs-node/);
  });
});
