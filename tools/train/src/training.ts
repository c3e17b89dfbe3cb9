import * as tf from '@tensorflow/tfjs';
import { SingleBar, Presets } from 'cli-progress';

export interface Encoded {
  rows: Int32Array[];
  labels: number[];
}

/** mulberry32: a seeded PRNG, so shuffles repeat run after run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pads rows with 0 ([PAD]) to the longest row in the list. */
export function padBatch(rows: Int32Array[]): tf.Tensor2D {
  const width = Math.max(1, ...rows.map((r) => r.length));
  const data = new Int32Array(rows.length * width);
  rows.forEach((r, i) => data.set(r, i * width));
  return tf.tensor2d(data, [rows.length, width], 'int32');
}

/**
 * Batches of similar length (sorted in chunks of 16 batches, then the batch
 * order shuffled), so a batch is padded only to its own longest row: far less
 * work than padding every e-mail to max_length.
 */
function batches(data: Encoded, batchSize: number, random: () => number): number[][] {
  const order = data.rows.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const chunk = batchSize * 16;
  const result: number[][] = [];
  for (let c = 0; c < order.length; c += chunk) {
    const part = order.slice(c, c + chunk).sort((a, b) => data.rows[a].length - data.rows[b].length);
    for (let b = 0; b < part.length; b += batchSize) result.push(part.slice(b, b + batchSize));
  }
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [result[i], result[j]] = [result[j], result[i]];
  }
  return result;
}

export async function predictProbabilities(model: tf.LayersModel, rows: Int32Array[], batchSize = 64): Promise<Float32Array> {
  const out = new Float32Array(rows.length * 2);
  const order = rows.map((_, i) => i).sort((a, b) => rows[a].length - rows[b].length);
  for (let b = 0; b < order.length; b += batchSize) {
    const idx = order.slice(b, b + batchSize);
    const probs = tf.tidy(() => model.predict(padBatch(idx.map((i) => rows[i]))) as tf.Tensor);
    const values = (await probs.data()) as Float32Array;
    probs.dispose();
    idx.forEach((i, k) => out.set(values.subarray(k * 2, k * 2 + 2), i * 2));
  }
  return out;
}

export async function train(
  model: tf.LayersModel,
  name: string,
  trainSet: Encoded,
  validation: Encoded,
  epochs: number,
  seed: number,
): Promise<{ epoch: number; loss: number; validationAccuracy: number }[]> {
  const random = seededRandom(seed);
  const history: { epoch: number; loss: number; validationAccuracy: number }[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const plan = batches(trainSet, 32, random);
    const bar = new SingleBar({ format: `${name} epoch ${epoch}/${epochs} [{bar}] {value}/{total} batches | loss {loss} | {duration}s`, hideCursor: true }, Presets.shades_classic);
    bar.start(plan.length, 0, { loss: '-' });
    let lossSum = 0;
    for (const [k, idx] of plan.entries()) {
      const x = padBatch(idx.map((i) => trainSet.rows[i]));
      const y = tf.tensor1d(idx.map((i) => trainSet.labels[i]), 'float32');
      const [loss] = (await model.trainOnBatch(x, y)) as number[];
      x.dispose();
      y.dispose();
      lossSum += loss;
      bar.update(k + 1, { loss: (lossSum / (k + 1)).toFixed(4) });
    }
    bar.stop();
    const probs = await predictProbabilities(model, validation.rows);
    const correct = validation.labels.filter((l, i) => (probs[i * 2 + 1] > probs[i * 2] ? 1 : 0) === l).length;
    history.push({ epoch, loss: lossSum / plan.length, validationAccuracy: correct / validation.labels.length });
    console.log(`${name} epoch ${epoch}: validation accuracy ${(100 * history.at(-1)!.validationAccuracy).toFixed(2)}%`);
  }
  return history;
}
