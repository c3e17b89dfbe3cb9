// A worker thread's entry (a second entry point of the gateway's bundle): the upload's check
// that a staged version and its tokenizer load and answer, run away from the gateway's own heap.
// See control-plane/model-check.ts.
import { parentPort, workerData } from 'node:worker_threads';
import type { ModelManifest } from '@servable/model-repository';
import { tfjsWarmUp } from '@servable/model-repository/tfjs';
import { checkTokenizerLoads } from './control-plane/tokenizer-check';

const { dir, manifest, tokenizer } = workerData as { dir: string; manifest: ModelManifest; tokenizer: Uint8Array };
checkTokenizerLoads(tokenizer, manifest)
  .then(() => tfjsWarmUp(dir, manifest))
  .then(
    () => parentPort?.postMessage({}),
    (err: unknown) => parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) }),
  );
