export interface Evaluation {
  split: 'test';
  examples: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** Rows are the true label, columns the predicted one, in the order of `labels`. */
  confusion_matrix: { labels: string[]; matrix: number[][] };
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

/** Metrics for the positive class spam (label 1), from [ham, spam] probabilities. */
export function evaluate(probabilities: Float32Array, labels: number[]): Evaluation {
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
    split: 'test',
    examples: labels.length,
    accuracy: round((m[0][0] + tp) / labels.length),
    precision: round(precision),
    recall: round(recall),
    f1: round((2 * precision * recall) / Math.max(1e-9, precision + recall)),
    confusion_matrix: { labels: ['ham', 'spam'], matrix: m },
  };
}
