import type { ModelManifest } from '@servable/model-repository';

// Messages between the main thread and a predict worker. Tensors travel as
// transferred ArrayBuffers, so a batch crosses the thread boundary without a copy.

export type BackendPreference = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export interface WorkerInit {
  backend: BackendPreference;
}

export interface WarmupPlan {
  batchSizes: number[];
  lengths: number[];
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
