// A worker thread's entry (a second entry point of the gateway's bundle): the upload's check
// that a staged version loads and answers, run away from the gateway's own heap. See model-check.ts.
import { parentPort, workerData } from 'node:worker_threads';
import type { ModelManifest } from '@servable/model-repository';
import { tfjsWarmUp } from '@servable/model-repository/tfjs';

const { dir, manifest } = workerData as { dir: string; manifest: ModelManifest };
tfjsWarmUp(dir, manifest).then(
  () => parentPort?.postMessage({}),
  (err: unknown) => parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) }),
);
