import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ModelManifest } from '@servable/model-repository';
import type { LoadValidator } from '@servable/persistence';
import { checkStagedVersion } from './staged-version-check';

/**
 * Runs the upload's checks (checkStagedVersion) in a worker thread made for the one upload, and
 * ends the worker after.
 *
 * In the gateway itself, the check grew the process for good: TF.js's WASM memory never
 * shrinks, and it holds every weight. A 131 MB model took the gateway from 131 MB of RSS to a
 * peak of 1,098 MB, and it stayed at 829 MB after the upload, over the 768Mi limit of the
 * Kubernetes manifests. A worker's heap and WASM memory go when it ends. A crash of the worker
 * (or a model that breaks TF.js) fails the upload, not the gateway.
 */
export function warmUpInWorker(workerFile: string): LoadValidator {
  return (dir: string, manifest: ModelManifest, tokenizer: Uint8Array) =>
    new Promise<void>((resolve, reject) => {
      const worker = new Worker(workerFile, { workerData: { dir, manifest, tokenizer } });
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        void worker.terminate();
        if (error) reject(error);
        else resolve();
      };
      worker.once('message', (m: { error?: string }) => settle(m.error === undefined ? undefined : new Error(m.error)));
      worker.once('error', (err) => settle(err));
      worker.once('exit', (code) => settle(new Error(`the model check's worker thread exited (code ${code}) before it answered`)));
    });
}

/** The worker's bundle, beside main.js (apps/gateway/project.json's additionalEntryPoints). */
const WORKER_FILE = join(__dirname, 'warm-up-worker.js');

/**
 * The gateway's LoadValidator: in a worker from the built bundle. Run from source (the unit
 * tests), there is no bundle to start a worker from, and the check runs in the process.
 */
export const checkModelLoads: LoadValidator = existsSync(WORKER_FILE)
  ? warmUpInWorker(WORKER_FILE)
  : checkStagedVersion;
