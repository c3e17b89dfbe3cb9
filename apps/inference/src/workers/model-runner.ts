import * as tf from '@tensorflow/tfjs';
import type { ModelManifest } from '@servable/model-repository';
import { loadTfModel, registerCustomLayers } from '@servable/model-repository/tfjs';
import { SAVED_MODEL_NEEDS_NATIVE } from '../models/manifest';
import { tfNode } from './backend-init';

/** A loaded model version inside a worker: padded int32 ids in, the first output's values out. */
export interface ModelRunner {
  run(ids: Int32Array, batch: number, seq: number): Float32Array;
  dispose(): void;
}

type Predictable = {
  predict(input: tf.Tensor | tf.NamedTensorMap): tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;
  dispose?(): void;
};


function pickOutput(result: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap, name: string | undefined): tf.Tensor {
  if (result instanceof tf.Tensor) return result;
  if (Array.isArray(result)) return result[0];
  return (name && result[name]) || Object.values(result)[0];
}

function wrap(model: Predictable, manifest: ModelManifest, named: boolean): ModelRunner {
  const inputName = manifest.signature.inputs[0]?.name ?? 'input_ids';
  const outputName = manifest.signature.outputs[0]?.name;
  return {
    run(ids, batch, seq) {
      const data = tf.tidy(() => {
        const input = tf.tensor2d(ids, [batch, seq], 'int32');
        return pickOutput(model.predict(named ? { [inputName]: input } : input), outputName).dataSync();
      });
      // Copy into a buffer this thread owns, so it can be transferred to the main thread.
      return Float32Array.from(data as ArrayLike<number>);
    },
    dispose: () => model.dispose?.(),
  };
}

export async function loadModelRunner(dir: string, manifest: ModelManifest): Promise<ModelRunner> {
  if (manifest.framework === 'tf-saved-model') {
    const node = tfNode();
    if (!node) throw new Error(SAVED_MODEL_NEEDS_NATIVE);
    return wrap((await node.loadSavedModel(dir)) as Predictable, manifest, true);
  }
  registerCustomLayers();
  return wrap((await loadTfModel(dir, manifest)) as unknown as Predictable, manifest, false);
}
