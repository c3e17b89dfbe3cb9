import { describe, expect, it } from 'vitest';
import { evaluate, expectedCalibrationError, fitTemperature, withTemperature } from './evaluation';

const probs = (spam: number[]) => Float32Array.from(spam.flatMap((p) => [1 - p, p]));

describe('evaluation', () => {
  it('counts accuracy, spam precision/recall/F1 and recall per label', () => {
    // truth: ham ham ham spam spam; predicted: ham spam ham spam ham
    const e = evaluate(probs([0.1, 0.8, 0.3, 0.9, 0.4]), [0, 0, 0, 1, 1], 'test_short', 'short');
    expect(e).toMatchObject({ split: 'test_short', examples: 5, accuracy: 0.6, precision: 0.5, recall: 0.5, f1: 0.5, recall_by_label: { ham: 0.6667, spam: 0.5 } });
    expect(e.confusion_matrix.matrix).toEqual([
      [2, 1],
      [1, 1],
    ]);
  });

  it('measures calibration: zero when confidence matches accuracy, large when a model is sure and wrong', () => {
    // Four rows at 0.75, three of them right: the bin's accuracy equals its confidence.
    expect(expectedCalibrationError(probs([0.75, 0.75, 0.75, 0.75]), [1, 1, 1, 0])).toBeCloseTo(0, 6);
    expect(expectedCalibrationError(probs([0.99, 0.99]), [0, 0])).toBeCloseTo(0.99, 6);
  });

  it('fits a temperature that cools an overconfident model, without moving any prediction across 0.5', () => {
    const raw = probs([0.999, 0.999, 0.999, 0.999, 0.001, 0.001, 0.001, 0.001]);
    const labels = [1, 1, 1, 0, 0, 0, 0, 1];
    const t = fitTemperature(raw, labels);
    expect(t).toBeGreaterThan(1);
    const scaled = withTemperature(raw, t);
    expect(expectedCalibrationError(scaled, labels)).toBeLessThan(expectedCalibrationError(raw, labels));
    for (let i = 0; i < labels.length; i++) expect(scaled[i * 2 + 1] > 0.5).toBe(raw[i * 2 + 1] > 0.5);
  });
});
