import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer } from 'tokenizers';
import { sha256Hex } from '@servable/contracts';
import { ModelRepository, type ModelManifest } from '@servable/model-repository';
import { initWasmBackend, loadTfModel } from '@servable/model-repository/tfjs';
import { loadCorpus, normalise, splitCorpus } from './corpus';
import { evaluate, type SplitEvaluation } from './evaluation';
import { heldOutShortTexts, shortTexts, wholeMessage } from './short-texts';
import { padBatch, predictProbabilities } from './training';

const repository = new ModelRepository(resolve(__dirname, '../../../models'));
// 300 texts of each test split: the unit test stays fast, and its accuracy
// should sit within 3 points of the full-split figure in servable.json.
const SAMPLE = 300;
const TOLERANCE = 0.03;

const splitOf = (manifest: ModelManifest, name: string) => (manifest.evaluation as { splits: SplitEvaluation[] }).splits.find((s) => s.split === name)!;

describe('the committed default model', () => {
  let manifests: ModelManifest[];
  let tokenizer: Tokenizer;
  let tokenizerBytes: Buffer;

  beforeAll(async () => {
    await initWasmBackend();
    manifests = await Promise.all((await repository.listVersions('spam')).map((v) => repository.readManifest('spam', v)));
    tokenizerBytes = await repository.readTokenizer(manifests[0].tokenizer.hash);
    tokenizer = Tokenizer.fromString(tokenizerBytes.toString('utf8'));
    tokenizer.setTruncation(manifests[0].max_length, { direction: 'right' });
  });

  it('has versions 1 and 2 pinned to one tokenizer whose bytes match its hash', () => {
    expect(manifests.map((m) => m.version)).toEqual([1, 2]);
    expect(new Set(manifests.map((m) => m.tokenizer.hash)).size).toBe(1);
    const files = readdirSync(join(repository.root, 'tokenizers'));
    for (const f of files) expect(sha256Hex(readFileSync(join(repository.root, 'tokenizers', f)))).toBe(f.replace(/\.json$/, ''));
  });

  it('encodes unseen characters (emoji, CJK) to [UNK] without throwing, with stable special ids', async () => {
    const e = await tokenizer.encode('free 🤑 钱 offer', null, { addSpecialTokens: true });
    expect(e.getIds()[0]).toBe(2); // [CLS]
    expect(e.getIds().at(-1)).toBe(3); // [SEP]
    expect(e.getTokens()).toContain('[UNK]');
    expect(tokenizer.tokenToId('[PAD]')).toBe(0);
    expect(tokenizer.tokenToId('[UNK]')).toBe(1);
    expect(tokenizer.tokenToId('[MASK]')).toBe(4);
  });

  it.each([1, 2])('v%i loads on WASM and reproduces its accuracy on a fixed sample of each test split', async (version) => {
    const manifest = manifests[version - 1];
    const model = (await loadTfModel(repository.versionDir('spam', version), manifest)) as tf.LayersModel;
    const split = splitCorpus(loadCorpus().messages);
    const trainTexts = new Set([...split.train.map(wholeMessage), ...split.train.flatMap(shortTexts)].map((e) => normalise(e.text)));
    // Every k-th text, not the first ones: the split is sorted by id, so its head is one folder (all ham).
    const every = <T>(list: T[]) => list.filter((_, i) => i % Math.ceil(list.length / SAMPLE) === 0);
    const samples = { test: every(split.test.map(wholeMessage)), test_short: every(heldOutShortTexts(split.test, trainTexts)) };
    for (const [name, sample] of Object.entries(samples)) {
      const rows: Int32Array[] = [];
      for (const e of await tokenizer.encodeBatch(sample.map((m) => m.text))) rows.push(Int32Array.from(e.getIds()));
      const result = evaluate(await predictProbabilities(model, rows), sample.map((m) => (m.label === 'spam' ? 1 : 0)));
      expect(Math.abs(result.accuracy - splitOf(manifest, name).accuracy), name).toBeLessThanOrEqual(TOLERANCE);
    }
    model.dispose();
  });

  it.each([1, 2])('v%i: extra [PAD] columns do not change the probabilities beyond 1e-5', async (version) => {
    const model = (await loadTfModel(repository.versionDir('spam', version), manifests[version - 1])) as tf.LayersModel;
    const rows = (await tokenizer.encodeBatch(['win a free cruise now', 'meeting moved to 3pm, see agenda attached', 'hi'])).map((e) =>
      Int32Array.from(e.getIds()),
    );
    const tight = padBatch(rows);
    const wide = tf.pad(tight, [[0, 0], [0, 40]]);
    const [a, b] = [model.predict(tight) as tf.Tensor, model.predict(wide) as tf.Tensor];
    const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
    expect(diff).toBeLessThanOrEqual(1e-5);
    // And alone versus in a batch with a longer row.
    const alone = model.predict(padBatch([rows[2]])) as tf.Tensor;
    expect(tf.max(tf.abs(tf.sub(alone, tf.slice(a, [2, 0], [1, 2])))).dataSync()[0]).toBeLessThanOrEqual(1e-5);
    tf.dispose([tight, wide, a, b, alone]);
    model.dispose();
  });
});
