export interface SplitEvaluation {
  /** test: whole held-out messages; test_short: their subjects and body sentences. */
  split: string;
  description: string;
  examples: number;
  accuracy: number;
  /** precision, recall and F1 of the positive label, spam. */
  precision: number;
  recall: number;
  f1: number;
  /** Recall of each label: ham's is the share of good mail that gets through. */
  recall_by_label: Record<string, number>;
  /** Expected calibration error: 10 equal-width bins over the top probability, |accuracy - confidence| weighted by bin size. */
  ece: number;
  /** Rows are the true label, columns the predicted one, in the order of `labels`. */
  confusion_matrix: { labels: string[]; matrix: number[][] };
}

export const LABELS = ['ham', 'spam'];
const BINS = 10;
const round = (x: number) => Math.round(x * 1e4) / 1e4;

/** Expected calibration error of [ham, spam] probabilities (Guo et al. 2017, 10 bins). */
export function expectedCalibrationError(probabilities: Float32Array, labels: number[]): number {
  const count = new Array<number>(BINS).fill(0);
  const correct = new Array<number>(BINS).fill(0);
  const confidence = new Array<number>(BINS).fill(0);
  labels.forEach((truth, i) => {
    const predicted = probabilities[i * 2 + 1] > probabilities[i * 2] ? 1 : 0;
    const p = probabilities[i * 2 + predicted];
    const bin = Math.min(BINS - 1, Math.floor(p * BINS));
    count[bin]++;
    confidence[bin] += p;
    if (predicted === truth) correct[bin]++;
  });
  let ece = 0;
  for (let b = 0; b < BINS; b++) if (count[b] > 0) ece += Math.abs(correct[b] - confidence[b]) / labels.length;
  return ece;
}

/** Metrics for the positive class spam (label 1), from [ham, spam] probabilities. */
export function evaluate(probabilities: Float32Array, labels: number[], split = 'test', description = ''): SplitEvaluation {
  const m = [
    [0, 0],
    [0, 0],
  ];
  labels.forEach((truth, i) => {
    const predicted = probabilities[i * 2 + 1] > probabilities[i * 2] ? 1 : 0;
    m[truth][predicted]++;
  });
  const tp = m[1][1];
  const precision = tp / Math.max(1, tp + m[0][1]);
  const recall = tp / Math.max(1, tp + m[1][0]);
  return {
    split,
    description,
    examples: labels.length,
    accuracy: round((m[0][0] + tp) / labels.length),
    precision: round(precision),
    recall: round(recall),
    f1: round((2 * precision * recall) / Math.max(1e-9, precision + recall)),
    recall_by_label: { ham: round(m[0][0] / Math.max(1, m[0][0] + m[0][1])), spam: round(recall) },
    ece: round(expectedCalibrationError(probabilities, labels)),
    confusion_matrix: { labels: LABELS, matrix: m },
  };
}

/** The probabilities a softmax gives when its logits are divided by `temperature`. */
export function withTemperature(probabilities: Float32Array, temperature: number): Float32Array {
  const out = new Float32Array(probabilities.length);
  for (let i = 0; i < probabilities.length; i += 2) {
    // Two classes: only the logit difference matters, and it is log(p1 / p0).
    const d = (Math.log(Math.max(probabilities[i + 1], 1e-12)) - Math.log(Math.max(probabilities[i], 1e-12))) / temperature;
    out[i + 1] = 1 / (1 + Math.exp(-d));
    out[i] = 1 - out[i + 1];
  }
  return out;
}

/**
 * Temperature scaling (Guo et al. 2017): the one temperature that minimises
 * the validation log-loss. It moves no prediction across 0.5, it only makes
 * the scores mean what they say. A grid, so the result is exact and repeats.
 */
export function fitTemperature(probabilities: Float32Array, labels: number[]): number {
  let best = { t: 1, nll: Infinity };
  for (let t = 0.5; t <= 8.0001; t += 0.01) {
    const p = withTemperature(probabilities, t);
    let nll = 0;
    labels.forEach((y, i) => (nll -= Math.log(Math.max(p[i * 2 + y], 1e-12))));
    if (nll < best.nll) best = { t: Math.round(t * 100) / 100, nll };
  }
  return best.t;
}
