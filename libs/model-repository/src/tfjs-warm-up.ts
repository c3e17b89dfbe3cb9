import * as tf from '@tensorflow/tfjs';
import { fixedSequenceLength, type ModelManifest } from './manifest';
import { loadTfModel } from './tf-model';
import { initWasmBackend } from './tfjs-backend';

/**
 * The upload's check that a staged version works: loads it with TF.js and runs one
 * prediction on a row of pad ids. It proves the files load and the signature's input
 * fits; it is not the inference service's own warm-up, which follows when it loads the
 * version. The gateway runs it in a worker thread of its own (warm-up-worker.ts).
 */
export async function tfjsWarmUp(dir: string, manifest: ModelManifest): Promise<void> {
  // A process that already chose a backend keeps it; otherwise the WASM one, as inference uses.
  if (!tf.engine().backendName) await initWasmBackend();
  const model = await loadTfModel(dir, manifest);
  try {
    const input = manifest.signature.inputs[0];
    const length = fixedLength(manifest, model.inputs[0]?.shape) ?? Math.min(manifest.max_length, 16);
    const ids = tf.fill([1, length], manifest.tokenizer.pad_id + 1, input.dtype);
    try {
      const out = model.predict(ids) as tf.Tensor | tf.Tensor[];
      const outputs = Array.isArray(out) ? out : [out];
      const values = await outputs[0].data();
      outputs.forEach((t) => t.dispose());
      const classes = manifest.labels.length;
      if (values.length !== classes || values.some((v) => !Number.isFinite(v))) {
        throw new Error(`the warm-up prediction gave ${values.length} values (${Array.from(values).join(', ')}) for ${classes} classes`);
      }
    } finally {
      ids.dispose();
    }
  } finally {
    model.dispose?.();
  }
}

/**
 * The sequence length the model only accepts, or undefined when it takes any. Inference pads
 * every batch to the length servable.json's signature fixes ([-1, 64]), so a model whose own
 * input is fixed ([null, 64]) must say so there, with the same length.
 */
function fixedLength(manifest: ModelManifest, modelShape: ReadonlyArray<number | null> | undefined): number | undefined {
  const declared = fixedSequenceLength(manifest);
  const own = typeof modelShape?.[1] === 'number' && modelShape[1] > 0 ? modelShape[1] : undefined;
  if (own !== undefined && declared !== own) {
    const says = declared === undefined ? 'leaves it free' : `fixes it at ${declared}`;
    throw new Error(`the model's input takes exactly ${own} ids, but servable.json's signature ${says}: declare the input's shape as [-1, ${own}]`);
  }
  return declared;
}
