// A worker thread's entry (a second entry point of the gateway's bundle): the upload's check
// that a staged version and its tokenizer load and answer, run away from the gateway's own heap.
// See control-plane/model-check.ts.
import { parentPort, workerData } from 'node:worker_threads';
import type { ModelManifest } from '@servable/model-repository';
import { checkStagedVersion } from './control-plane/staged-version-check';

const { dir, manifest, tokenizer } = workerData as { dir: string; manifest: ModelManifest; tokenizer: Uint8Array };
checkStagedVersion(dir, manifest, tokenizer).then(
  () => parentPort?.postMessage({}),
  (err: unknown) => parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) }),
);
