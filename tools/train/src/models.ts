import * as tf from '@tensorflow/tfjs';
import { HashedBigrams, HashedNgrams, MaskedPooling, registerCustomLayers } from '@servable/model-repository/tfjs';
import type { ExampleKind } from './short-texts';

export interface Architecture {
  version: 1 | 2;
  description: string;
  embeddingDim: number;
  filters?: number;
  kernelSize?: number;
  epochs: number;
  learningRate: number;
  dropout: number;
  /**
   * Ham's weight in the loss, against 1 for spam: a good message called spam is
   * lost mail, while a spam let through costs one click, and short texts need the
   * push most (a casual line reads like neither class of a 2002 mailing list).
   * With bigrams neither version needs a push: ham recall on short texts stays
   * above 95% at weight 1 (v1 95.0%, v2 96.0%), and extra weight cost spam
   * recall (v2 with bigrams, 3 epochs at 1.5: 13 test spam missed; 2 epochs at 1: 7).
   */
  hamWeight: number;
  /**
   * Token bigrams hashed into this many buckets, embedded (bigramDim) and
   * mean-pooled beside the tokens: a bag of single tokens cannot tell "free
   * software" from "free offer", and that is most of what v1 got wrong.
   */
  bigramBuckets?: number;
  bigramDim?: number;
  /** Which n-gram orders share the bigram table: [2] (the default) is bigrams alone, [2, 3] adds trigrams. */
  ngramOrders?: number[];
  /**
   * Independently initialised copies of the whole network inside one graph, each
   * with its own seeds (trained apart by default, see main.ts); their logits are averaged, then one
   * softmax. 1 (the default) is the single network, layer names unchanged.
   */
  members?: number;
  /** Store the weights as float16 (see float16IO): half the bytes on disk. */
  float16?: boolean;
}

/**
 * A whole message's weight, against 1 for a subject or sentence: there are about
 * four short texts per message, and without this they would drown the whole
 * messages, which carry the most evidence per example.
 */
export const MESSAGE_WEIGHT = 3;

/**
 * Weighted cross-entropy. The targets are one-hot rows scaled by each example's
 * weight (see exampleWeight), so the weight travels with the target through
 * trainOnBatch, which has no sample weights of its own.
 */
export function weightedCrossEntropy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(yTrue, tf.log(tf.clipByValue(yPred, 1e-7, 1 - 1e-7))), -1)));
}

export const exampleWeight = (label: number, kind: ExampleKind, hamWeight: number) => (label === 0 ? hamWeight : 1) * (kind === 'message' ? MESSAGE_WEIGHT : 1);

/**
 * Divides the output layer's logits by `temperature` (scaling kernel and bias is
 * exactly that), so the saved model serves calibrated probabilities and nothing
 * at serving time needs to know.
 */
export function applyTemperature(model: tf.LayersModel, temperature: number): void {
  // A single network's output layer is the dense softmax itself; an ensemble's is a
  // softmax over the mean of its members' logit layers, so each of those is scaled
  // (dividing every member's logits by T divides their mean by T).
  const single = model.getLayer('probabilities');
  const dense = single.getWeights().length > 0 ? [single] : model.layers.filter((l) => /^logits_\d+$/.test(l.name));
  if (dense.length === 0) throw new Error('applyTemperature: no output layer with weights');
  for (const layer of dense) layer.setWeights(layer.getWeights().map((w) => tf.tidy(() => tf.div(w, temperature))));
}

export const ARCHITECTURES: Record<1 | 2, Architecture> = {
  1: {
    version: 1,
    description: 'embedding(32) -> masked mean pooling, beside hashed token bigrams (65,536 buckets) -> embedding(16) -> masked mean pooling; concatenated -> dense softmax',
    embeddingDim: 32,
    bigramBuckets: 65_536,
    bigramDim: 16,
    // Validation accuracy peaks at epoch 2; the bigram table memorises the training texts after that.
    epochs: 2,
    learningRate: 3e-3,
    dropout: 0.5,
    hamWeight: 1,
  },
  2: {
    version: 2,
    description: 'embedding(64) -> conv1d(128 filters, width 3, relu) -> masked max pooling, beside hashed token bigrams (65,536 buckets) -> embedding(16) -> masked mean pooling; concatenated -> dense softmax',
    embeddingDim: 64,
    filters: 128,
    kernelSize: 3,
    // The same bigram channel as v1: the convolution sees trigrams of neighbouring
    // tokens but keeps only each filter's strongest one, while the bag of bigrams
    // counts all of them. Short texts went from 90.1% to 91.8%, whole messages from 97.7% to 98.1%.
    bigramBuckets: 65_536,
    bigramDim: 16,
    // With bigrams validation accuracy peaks at epoch 2, as v1's does.
    epochs: 2,
    learningRate: 2e-3,
    dropout: 0.5,
    hamWeight: 1,
  },
};

/** input_ids int32 [batch, seq] (seq free) -> probabilities float32 [batch, 2] over [ham, spam]. */
export function buildModel(arch: Architecture, vocabSize: number, seed: number): tf.LayersModel {
  registerCustomLayers();
  const ids = tf.input({ shape: [null], dtype: 'int32', name: 'input_ids' });
  const members = arch.members ?? 1;
  let probabilities: tf.SymbolicTensor;
  if (members === 1) {
    probabilities = tf.layers
      .dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }), name: 'probabilities' })
      .apply(memberFeatures(arch, vocabSize, seed, ids, '')) as tf.SymbolicTensor;
  } else {
    // Member k has its own seeds (seed + 1000 k) and layer names (suffix _k).
    const logits = Array.from({ length: members }, (_, k) =>
      tf.layers
        .dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1000 * k + 2 }), name: `logits_${k}` })
        .apply(memberFeatures(arch, vocabSize, seed + 1000 * k, ids, `_${k}`)) as tf.SymbolicTensor,
    );
    const mean = tf.layers.average({ name: 'mean_logits' }).apply(logits) as tf.SymbolicTensor;
    probabilities = tf.layers.activation({ activation: 'softmax', name: 'probabilities' }).apply(mean) as tf.SymbolicTensor;
  }
  const model = tf.model({ inputs: ids, outputs: probabilities, name: `spam_v${arch.version}` });
  model.compile({ optimizer: tf.train.adam(arch.learningRate), loss: weightedCrossEntropy });
  return model;
}

/** One network up to its pooled features; `suffix` names its layers apart from another member's. */
function memberFeatures(arch: Architecture, vocabSize: number, seed: number, ids: tf.SymbolicTensor, suffix: string): tf.SymbolicTensor {
  const embedded = tf.layers
    .embedding({ inputDim: vocabSize, outputDim: arch.embeddingDim, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed }), name: `embedding${suffix}` })
    .apply(ids) as tf.SymbolicTensor;
  // Dropout on the embeddings: with ~8000 rows and few examples per rare word, the
  // embedding memorises the training texts within two epochs otherwise. Inert at serving.
  // No seed here: a fixed seed gives every batch the same mask; train() seeds the masks instead.
  const dropped = tf.layers.dropout({ rate: arch.dropout, name: `embedding_dropout${suffix}` }).apply(embedded) as tf.SymbolicTensor;
  let pooled = new MaskedPooling(
    arch.version === 1
      ? { mode: 'mean', name: `masked_mean${suffix}` }
      : { mode: 'conv', filters: arch.filters, kernelSize: arch.kernelSize, seed: seed + 1, name: `masked_conv_max${suffix}` },
  ).apply([dropped, ids]) as tf.SymbolicTensor;
  if (arch.bigramBuckets) {
    const orders = arch.ngramOrders ?? [2];
    const bigramIds = (
      orders.length === 1 && orders[0] === 2
        ? new HashedBigrams({ buckets: arch.bigramBuckets, name: `bigram_ids${suffix}` })
        : new HashedNgrams({ buckets: arch.bigramBuckets, orders, name: `ngram_ids${suffix}` })
    ).apply(ids) as tf.SymbolicTensor;
    const bigrams = tf.layers
      .embedding({ inputDim: arch.bigramBuckets, outputDim: arch.bigramDim ?? 16, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: seed + 3 }), name: `bigram_embedding${suffix}` })
      .apply(bigramIds) as tf.SymbolicTensor;
    const droppedBigrams = tf.layers.dropout({ rate: arch.dropout, name: `bigram_dropout${suffix}` }).apply(bigrams) as tf.SymbolicTensor;
    const pooledBigrams = new MaskedPooling({ mode: 'mean', name: `bigram_mean${suffix}` }).apply([droppedBigrams, bigramIds]) as tf.SymbolicTensor;
    pooled = tf.layers.concatenate({ name: `pooled${suffix}` }).apply([pooled, pooledBigrams]) as tf.SymbolicTensor;
  }
  return pooled;
}
