import type { ModelManifest } from '@servable/model-repository';

// Messages between the main thread and a predict worker. Tensors travel as
// transferred ArrayBuffers, so a batch crosses the thread boundary without a copy.

export type BackendPreference = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export interface WorkerInit {
  backend: BackendPreference;
}

/** The [rows, ids per row] shapes a worker runs once before a version takes traffic, in order. */
export interface WarmupPlan {
  shapes: Array<{ batch: number; seq: number }>;
}

export type ToWorker =
  | { type: 'load'; id: number; key: string; dir: string; manifest: ModelManifest; warmup: WarmupPlan }
  | { type: 'unload'; id: number; key: string }
  | { type: 'predict'; id: number; key: string; ids: Int32Array; batch: number; seq: number };

export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'init-failed'; message: string }
  | { type: 'done'; id: number }
  | { type: 'result'; id: number; output: Float32Array; computeUs: number }
  | { type: 'error'; id: number; message: string };
