import { fixedSequenceLength, type ModelManifest } from '@servable/model-repository';
import { paddedSizeOf, type BatchingOptions } from '../batching/batching-options';
import type { InferenceConfig } from '../config/inference.config';
import type { WarmupPlan } from '../workers/worker-protocol';
import type { VersionSignature } from './signature';

export const SAVED_MODEL_NEEDS_NATIVE =
  'TF SavedModel versions need the native TensorFlow backend: install @tensorflow/tfjs-node (npm install @tensorflow/tfjs-node) and run with INFERENCE_BACKEND=auto or tensorflow, or convert the model with tensorflowjs_converter';

/** The model repository as inference sees it (implemented by @servable/model-repository). */
export interface ModelSource {
  listModels(): Promise<string[]>;
  listVersions(model: string): Promise<number[]>;
  readManifest(model: string, version: number): Promise<ModelManifest>;
  versionDir(model: string, version: number): string;
}

export function signatureOf(manifest: ModelManifest): VersionSignature {
  return {
    inputs: manifest.signature.inputs,
    outputs: manifest.signature.outputs,
    vocabSize: manifest.tokenizer.vocab_size,
    maxLength: manifest.max_length,
  };
}

/** The environment's batching knobs, each with its built-in default already applied by the config schema. */
export type BatchingEnv = Pick<InferenceConfig, 'MAX_BATCH_SIZE' | 'BATCH_TIMEOUT_MICROS' | 'MAX_QUEUE_SIZE' | 'MAX_BATCH_TOKENS'>;

/**
 * The one place a version's batching is decided: servable.json's `batching` field where it
 * is present, else the environment variable, else the variable's built-in default. A model's
 * author knows its shapes; the operator knows the hardware, and sets what the author left open.
 */
export function batchingOf(manifest: ModelManifest, env: BatchingEnv): BatchingOptions {
  const b = manifest.batching ?? {};
  const options: BatchingOptions = {
    maxBatchSize: b.max_batch_size ?? env.MAX_BATCH_SIZE,
    batchTimeoutMicros: b.batch_timeout_micros ?? env.BATCH_TIMEOUT_MICROS,
    maxQueueSize: b.max_queue_size ?? env.MAX_QUEUE_SIZE,
    maxBatchTokens: b.max_batch_tokens ?? env.MAX_BATCH_TOKENS,
    // No environment variable: padded batch sizes belong to a compiled graph, not to a machine.
    allowedBatchSizes: b.allowed_batch_sizes?.length ? b.allowed_batch_sizes : undefined,
  };
  // A row of max_length must always fit in a batch, or it could never run.
  options.maxBatchTokens = Math.max(options.maxBatchTokens, manifest.max_length);
  return options;
}

/**
 * Shapes to run before AVAILABLE: small, typical and the largest batch, at a short and the
 * longest length, each as the batcher could send it. A batch holds at most maxBatchTokens ids
 * before it is padded to an allowed size, so at max_length 512 and 16,384 tokens the largest
 * batch is 32 rows, not 64. Warming a shape that is never served would only grow the workers'
 * WASM memory, which never shrinks: two workers holding v2 (512 ids) reached 415 MB of RSS after
 * warming 64 x 512 and 377-390 MB after 32 x 512; v1 258 against 232 MB.
 */
export function warmupPlanOf(manifest: ModelManifest, batching: BatchingOptions): WarmupPlan {
  const largest = batching.allowedBatchSizes?.length ? Math.max(...batching.allowedBatchSizes) : batching.maxBatchSize;
  const fixed = fixedSequenceLength(manifest);
  const lengths = fixed !== undefined ? [fixed] : [...new Set([Math.min(16, manifest.max_length), manifest.max_length])];
  const shapes: WarmupPlan['shapes'] = [];
  for (const wanted of [1, Math.min(8, largest), largest]) {
    for (const seq of lengths) {
      const rows = Math.max(1, Math.min(wanted, Math.floor(batching.maxBatchTokens / seq)));
      const batch = paddedSizeOf(rows, batching.allowedBatchSizes);
      if (!shapes.some((s) => s.batch === batch && s.seq === seq)) shapes.push({ batch, seq });
    }
  }
  return { shapes };
}
