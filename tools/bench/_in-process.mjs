// The in-process baseline of inference: the service's own dynamic batcher (DynamicBatcher, with
// the version's batching from batchingOf and the service's config defaults) in front of the
// service's own WorkerPool and predict-worker threads, in this process. It is everything the
// service does for a Predict except gRPC, so "N% of in-process" compares serving overhead and
// not two batching policies. The TypeScript comes straight from apps/inference/src, bundled by
// esbuild on every run, so the baseline can never drift from what the service runs.
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './_support.mjs';

const require = createRequire(join(root, 'package.json'));
const CORE = join(root, 'dist/tools/bench/serving-core.cjs');
const WORKER = join(root, 'dist/apps/inference/predict-worker.js');

/** Bundles the inference app's batching, worker pool and config (the modules the service itself uses) into one CommonJS file. */
async function servingCore() {
  mkdirSync(join(root, 'dist/tools/bench'), { recursive: true });
  const { build } = require('esbuild');
  const from = (path, names) => `export { ${names} } from './apps/inference/src/${path}';`;
  await build({
    stdin: {
      contents: [
        from('batching/dynamic-batcher', 'DynamicBatcher'),
        from('workers/worker-pool', 'WorkerPool'),
        from('models/manifest', 'batchingOf, warmupPlanOf'),
        from('config/inference.config', 'loadInferenceConfig'),
      ].join('\n'),
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    tsconfig: join(root, 'tsconfig.base.json'),
    outfile: CORE,
    logLevel: 'warning',
  });
  delete require.cache[CORE];
  return require(CORE);
}

/**
 * `workers` predict threads with model `name` version `version` loaded and warmed up as the service
 * does it, behind one DynamicBatcher. predict(ids) queues one row and resolves with its output.
 * `stats()` gives the batches since the last call: count, mean rows and mean padding.
 */
export async function startInProcessInference({ repository, name, version, workers, backend }) {
  if (!existsSync(WORKER)) throw new Error(`${WORKER} is missing: npx nx build inference`);
  const core = await servingCore();
  // The environment the service would read: the same batching defaults and overrides.
  const config = core.loadInferenceConfig({ ...process.env, INFERENCE_WORKERS: String(workers), INFERENCE_BACKEND: backend });
  const dir = join(repository, name, String(version));
  const manifest = JSON.parse(readFileSync(join(dir, 'servable.json'), 'utf8'));
  const batching = core.batchingOf(manifest, config);
  const pool = new core.WorkerPool(config.INFERENCE_WORKERS, { path: WORKER }, { backend: config.INFERENCE_BACKEND });
  const backendName = await pool.start();
  const key = `${name}/${version}`;
  await pool.load(key, dir, manifest, core.warmupPlanOf(manifest, batching));
  const padId = manifest.tokenizer.pad_id;
  let batches = { count: 0, rows: 0, padding: 0 };
  // The same executor as ModelManager's (apps/inference/src/models/model-manager.service.ts, private there):
  // pad each batch to its longest row with the tokenizer's pad id and run it on the pool.
  const executor = {
    hasCapacity: () => pool.hasCapacity(key),
    idleSlots: () => pool.idleSlots(key),
    execute: async (batch) => {
      const ids = new Int32Array(batch.paddedBatchSize * batch.seqLength);
      if (padId !== 0) ids.fill(padId);
      batch.rows.forEach((row, r) => ids.set(row, r * batch.seqLength));
      const { output, computeUs } = await pool.predict({ key, ids, batch: batch.paddedBatchSize, seq: batch.seqLength });
      const width = output.length / batch.paddedBatchSize;
      return { outputs: batch.rows.map((_, r) => output.subarray(r * width, (r + 1) * width)), computeUs };
    },
  };
  const batcher = new core.DynamicBatcher(batching, executor, {
    onBatch: (s) => {
      batches.count++;
      batches.rows += s.size;
      batches.padding += s.paddingRatio;
    },
  });
  pool.onCapacity(() => batcher.pump());
  return {
    backend: backendName,
    batching,
    predict: async (ids) => (await batcher.submit([ids])).outputs[0],
    stats() {
      const b = batches;
      batches = { count: 0, rows: 0, padding: 0 };
      return { batches: b.count, meanBatch: b.rows / b.count, meanPadding: b.padding / b.count };
    },
    close: () => pool.close(),
  };
}
