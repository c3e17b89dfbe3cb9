import * as tf from '@tensorflow/tfjs';
import { MultiBar, Presets, type SingleBar } from 'cli-progress';

export interface Encoded {
  rows: Int32Array[];
  labels: number[];
  /** Loss weight per row; 1 when absent. */
  weights?: number[];
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

/** How many batches one epoch of `examples` rows makes: the run's progress bar adds these up before training starts. */
export function batchesPerEpoch(examples: number, batchSize = 32): number {
  const chunk = batchSize * 16;
  return Math.floor(examples / chunk) * 16 + Math.ceil((examples % chunk) / batchSize);
}

/**
 * One bar for the whole run (every version, every epoch) above one bar for the
 * current epoch. Bars draw only on a terminal; in a CI log or a pipe only the
 * lines go out, since a redrawn bar would print a copy of itself every time.
 */
export class Progress {
  private readonly bars = process.stderr.isTTY ? new MultiBar({ hideCursor: true, clearOnComplete: false }, Presets.shades_classic) : null;
  private readonly run?: SingleBar;

  constructor(totalBatches: number) {
    this.run = this.bars?.create(totalBatches, 0, {}, { format: 'whole run   [{bar}] {percentage}% | {value}/{total} batches | {duration_formatted} | about {eta_formatted} to go' });
  }

  epoch(name: string, batches: number): { update(done: number, loss: string): void; finish(): void } {
    const bar = this.bars?.create(batches, 0, { loss: '-' }, { format: `${name} [{bar}] {value}/{total} batches | loss {loss} | {duration}s` });
    return {
      update: (done, loss) => {
        bar?.update(done, { loss });
        this.run?.increment();
      },
      // The finished epoch's bar goes away; its summary line stays.
      finish: () => bar && this.bars?.remove(bar),
    };
  }

  log(line: string): void {
    if (this.bars) this.bars.log(`${line}\n`);
    else console.log(line);
  }

  stop(): void {
    this.bars?.stop();
  }
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

export interface EpochRecord {
  epoch: number;
  loss: number;
  validationAccuracy: number;
}

export async function train(
  model: tf.LayersModel,
  name: string,
  trainSet: Encoded,
  validation: Encoded,
  epochs: number,
  seed: number,
  progress: Progress,
): Promise<EpochRecord[]> {
  const random = seededRandom(seed);
  const history: EpochRecord[] = [];
  // TF.js draws each unseeded dropout mask's seed from Math.random: a seeded
  // stream here makes the masks, and so the weights, repeat run after run.
  const mathRandom = Math.random;
  Math.random = seededRandom(seed + 7);
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const plan = batches(trainSet, 32, random);
      const bar = progress.epoch(`${name} epoch ${epoch}/${epochs}`, plan.length);
      let lossSum = 0;
      for (const [k, idx] of plan.entries()) {
        const x = padBatch(idx.map((i) => trainSet.rows[i]));
        const y = tf.tidy(() =>
          tf.mul(tf.oneHot(tf.tensor1d(idx.map((i) => trainSet.labels[i]), 'int32'), 2).toFloat(), tf.tensor2d(idx.map((i) => trainSet.weights?.[i] ?? 1), [idx.length, 1])),
        );
        const loss = (await model.trainOnBatch(x, y)) as number;
        x.dispose();
        y.dispose();
        lossSum += loss;
        bar.update(k + 1, (lossSum / (k + 1)).toFixed(4));
        // The bars redraw on a timer, and a loop of awaited WASM calls never lets one fire.
        if (k % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      bar.finish();
      const probs = await predictProbabilities(model, validation.rows);
      const correct = validation.labels.filter((l, i) => (probs[i * 2 + 1] > probs[i * 2] ? 1 : 0) === l).length;
      history.push({ epoch, loss: lossSum / plan.length, validationAccuracy: correct / validation.labels.length });
      progress.log(`${name} epoch ${epoch}: loss ${history.at(-1)!.loss.toFixed(4)}, validation accuracy ${(100 * history.at(-1)!.validationAccuracy).toFixed(2)}%`);
    }
  } finally {
    Math.random = mathRandom;
  }
  return history;
}
