// In-process predict latency of each spam version per batch of 32 real
// messages on the WASM backend (npm run bench -- model-speed).
import { resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { Tokenizer } from 'tokenizers';
import { ModelRepository } from '@servable/model-repository';
import { initWasmBackend, loadTfModel } from '@servable/model-repository/tfjs';
import { loadCorpus, splitCorpus } from './corpus';
import { padBatch } from './training';

const BATCH = 32;
const ROUNDS = 30;

async function main(): Promise<void> {
  await initWasmBackend();
  const repo = new ModelRepository(resolve(process.argv[2] ?? 'models'));
  const versions = await repo.listVersions('spam');
  const manifests = await Promise.all(versions.map((v) => repo.readManifest('spam', v)));
  const tokenizer = Tokenizer.fromString((await repo.readTokenizer(manifests[0].tokenizer.hash)).toString('utf8'));
  tokenizer.setTruncation(manifests[0].max_length, { direction: 'right' });
  const test = splitCorpus(loadCorpus().messages).test;
  const batches: Int32Array[][] = [];
  for (let i = 0; i + BATCH <= test.length && batches.length < 8; i += BATCH) {
    batches.push((await tokenizer.encodeBatch(test.slice(i, i + BATCH).map((m) => m.text))).map((e) => Int32Array.from(e.getIds())));
  }
  const perBatch: Record<number, number> = {};
  for (const m of manifests) {
    const model = (await loadTfModel(repo.versionDir('spam', m.version), m)) as tf.LayersModel;
    const inputs = batches.map(padBatch);
    for (const x of inputs) (model.predict(x) as tf.Tensor).dispose(); // warm-up
    const t0 = performance.now();
    for (let r = 0; r < ROUNDS; r++) for (const x of inputs) await (model.predict(x) as tf.Tensor).data();
    perBatch[m.version] = (performance.now() - t0) / (ROUNDS * inputs.length);
    const width = inputs.reduce((a, x) => a + x.shape[1], 0) / inputs.length;
    console.log(`spam v${m.version}: ${perBatch[m.version].toFixed(2)} ms per batch of ${BATCH} (mean padded length ${width.toFixed(0)}), ${((BATCH * 1000) / perBatch[m.version]).toFixed(0)} rows/s on one WASM thread`);
    model.dispose();
  }
  if (perBatch[1] && perBatch[2]) console.log(`v1 is ${(perBatch[2] / perBatch[1]).toFixed(2)}x faster than v2 per batch of ${BATCH} (target >= 2x)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
