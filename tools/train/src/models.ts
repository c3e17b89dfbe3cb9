import * as tf from '@tensorflow/tfjs';
import { MaskedPooling, registerCustomLayers } from '@servable/model-repository';

export interface Architecture {
  version: 1 | 2;
  description: string;
  embeddingDim: number;
  filters?: number;
  kernelSize?: number;
  epochs: number;
  learningRate: number;
}

export const ARCHITECTURES: Record<1 | 2, Architecture> = {
  1: { version: 1, description: 'embedding(32) -> masked mean pooling -> dense softmax', embeddingDim: 32, epochs: 8, learningRate: 3e-3 },
  2: {
    version: 2,
    description: 'embedding(64) -> conv1d(128 filters, width 3, relu) -> masked max pooling -> dense softmax',
    embeddingDim: 64,
    filters: 128,
    kernelSize: 3,
    epochs: 4,
    learningRate: 2e-3,
  },
};

/** input_ids int32 [batch, seq] (seq free) -> probabilities float32 [batch, 2] over [ham, spam]. */
export function buildModel(arch: Architecture, vocabSize: number, seed: number): tf.LayersModel {
  registerCustomLayers();
  const ids = tf.input({ shape: [null], dtype: 'int32', name: 'input_ids' });
  const embedded = tf.layers
    .embedding({ inputDim: vocabSize, outputDim: arch.embeddingDim, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed }), name: 'embedding' })
    .apply(ids) as tf.SymbolicTensor;
  const pooled = new MaskedPooling(
    arch.version === 1
      ? { mode: 'mean', name: 'masked_mean' }
      : { mode: 'conv', filters: arch.filters, kernelSize: arch.kernelSize, seed: seed + 1, name: 'masked_conv_max' },
  ).apply([embedded, ids]) as tf.SymbolicTensor;
  const probabilities = tf.layers
    .dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }), name: 'probabilities' })
    .apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: ids, outputs: probabilities, name: `spam_v${arch.version}` });
  model.compile({ optimizer: tf.train.adam(arch.learningRate), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}
