import type { BatchingOptions } from '../batching/batching-options';
import type { WarmupPlan } from '../workers/worker-protocol';
import type { TensorSpec, VersionSignature } from './signature';

export const SAVED_MODEL_NEEDS_NATIVE =
  'TF SavedModel versions need the native TensorFlow backend: install @tensorflow/tfjs-node (npm install @tensorflow/tfjs-node) and run with INFERENCE_BACKEND=auto or tensorflow, or convert the model with tensorflowjs_converter';

/** The parts of servable.json (servable.model/v1) that inference reads. */
export interface ServableManifest {
  name: string;
  version: number;
  framework: 'tfjs-layers' | 'tfjs-graph' | 'tf-saved-model';
  signature: { inputs: TensorSpec[]; outputs: TensorSpec[] };
  labels?: string[];
  tokenizer: { hash: string; vocab_size: number; pad_id?: number };
  max_length: number;
  batching?: Partial<{
    max_batch_size: number;
    batch_timeout_micros: number;
    max_queue_size: number;
    max_batch_tokens: number;
    allowed_batch_sizes: number[];
  }>;
}

/** The model repository as inference sees it (implemented by @servable/model-repository). */
export interface ModelSource {
  listModels(): Promise<string[]>;
  listVersions(model: string): Promise<number[]>;
  readManifest(model: string, version: number): Promise<ServableManifest>;
  versionDir(model: string, version: number): string;
}

export function signatureOf(manifest: ServableManifest): VersionSignature {
  return {
    inputs: manifest.signature.inputs,
    outputs: manifest.signature.outputs,
    vocabSize: manifest.tokenizer.vocab_size,
    maxLength: manifest.max_length,
  };
}

/** servable.json's batching block, with the environment's defaults where it is silent. */
export function batchingOf(manifest: ServableManifest, defaults: BatchingOptions): BatchingOptions {
  const b = manifest.batching ?? {};
  const options: BatchingOptions = {
    maxBatchSize: b.max_batch_size ?? defaults.maxBatchSize,
    batchTimeoutMicros: b.batch_timeout_micros ?? defaults.batchTimeoutMicros,
    maxQueueSize: b.max_queue_size ?? defaults.maxQueueSize,
    maxBatchTokens: b.max_batch_tokens ?? defaults.maxBatchTokens,
    allowedBatchSizes: b.allowed_batch_sizes?.length ? b.allowed_batch_sizes : defaults.allowedBatchSizes,
  };
  // A row of max_length must always fit in a batch, or it could never run.
  options.maxBatchTokens = Math.max(options.maxBatchTokens, manifest.max_length);
  return options;
}

/** Shapes to run before AVAILABLE: small, typical and the largest batch, at a short and the longest length. */
export function warmupPlanOf(manifest: ServableManifest, batching: BatchingOptions): WarmupPlan {
  const largest = batching.allowedBatchSizes?.length ? Math.max(...batching.allowedBatchSizes) : batching.maxBatchSize;
  const batchSizes = [...new Set([1, Math.min(8, largest), largest])];
  const lengths = [...new Set([Math.min(16, manifest.max_length), manifest.max_length])];
  return { batchSizes, lengths };
}
