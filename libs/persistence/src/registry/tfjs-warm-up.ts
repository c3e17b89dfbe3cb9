import type * as Tf from '@tensorflow/tfjs';
import type { ModelManifest } from '@servable/model-repository';

/**
 * A LoadValidator that loads the staged version with TF.js in this process and runs one
 * prediction on a row of pad ids. It proves the files load and the signature's input
 * fits; it is not the inference service's own warm-up, which follows when it loads the
 * version.
 */
export async function tfjsWarmUp(dir: string, manifest: ModelManifest): Promise<void> {
  // Loaded on the first upload, not at start: TensorFlow.js is about 80 MB of a process's memory,
  // and a gateway that never takes an upload has no use for it.
  const tf: typeof Tf = await import('@tensorflow/tfjs');
  const { initWasmBackend, loadTfModel } = await import('@servable/model-repository/tfjs');
  // A process that already chose a backend keeps it; otherwise the WASM one, as inference uses.
  if (!tf.engine().backendName) await initWasmBackend();
  const model = await loadTfModel(dir, manifest);
  try {
    const input = manifest.signature.inputs[0];
    const length = Math.min(manifest.max_length, 16);
    const ids = tf.fill([1, length], manifest.tokenizer.pad_id + 1, input.dtype);
    try {
      const out = model.predict(ids) as Tf.Tensor | Tf.Tensor[];
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
