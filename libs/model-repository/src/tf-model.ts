import * as tf from '@tensorflow/tfjs';
import { ErrorCode, ServableError } from '@servable/contracts';
import { fileSystemIO } from './fs-io-handler';
import type { ModelManifest } from './manifest';
import { registerCustomLayers } from './masked-layers';

/** Loads a version's TF.js model through the filesystem IOHandler. */
export async function loadTfModel(dir: string, manifest: ModelManifest): Promise<tf.LayersModel | tf.GraphModel> {
  registerCustomLayers();
  switch (manifest.framework) {
    case 'tfjs-layers':
      return tf.loadLayersModel(fileSystemIO(dir));
    case 'tfjs-graph':
      return tf.loadGraphModel(fileSystemIO(dir));
    default:
      throw new ServableError(
        ErrorCode.FAILED_PRECONDITION,
        `${manifest.name}/${manifest.version} is a TensorFlow SavedModel, which needs the tfjs-node backend: install @tensorflow/tfjs-node (or -gpu) where libtensorflow can be downloaded and set INFERENCE_BACKEND=tensorflow`,
      );
  }
}
