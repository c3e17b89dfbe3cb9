import { describe, expect, it } from 'vitest';
import { evaluationView } from './evaluation-view';

describe('evaluationView', () => {
  it('passes every split of servable.json through, with the calibration temperature', () => {
    const view = evaluationView({
      splits: [
        { split: 'test', description: 'whole messages', examples: 618, accuracy: 0.98, precision: 0.97, recall: 0.96, f1: 0.965, recall_by_label: { ham: 0.99, spam: 0.96 }, ece: 0.012, confusion_matrix: {} },
        { split: 'test_short', examples: 2058, accuracy: 0.91, recall_by_label: { ham: 0.95, spam: 'n/a' } },
      ],
      calibration: { temperature: 2.05 },
    });
    expect(view).toEqual({
      splits: [
        { split: 'test', description: 'whole messages', examples: 618, accuracy: 0.98, precision: 0.97, recall: 0.96, f1: 0.965, recallByLabel: { ham: 0.99, spam: 0.96 }, ece: 0.012 },
        { split: 'test_short', examples: 2058, accuracy: 0.91, recallByLabel: { ham: 0.95 } },
      ],
      temperature: 2.05,
    });
  });

  it('reads an older flat record as one split, and drops what is not a finite number', () => {
    expect(evaluationView({ split: 'test', examples: 618, accuracy: 0.9741, f1: 0.9585, precision: 'high', recall: Number.NaN })).toEqual({
      splits: [{ split: 'test', examples: 618, accuracy: 0.9741, f1: 0.9585 }],
    });
    expect(evaluationView({ accuracy: 0.9 })).toEqual({ splits: [{ split: 'test', accuracy: 0.9 }] });
  });

  it('has no splits for a record without metrics, and is null without a record', () => {
    expect(evaluationView({ note: 'not evaluated' })).toEqual({ splits: [] });
    expect(evaluationView(null)).toBeNull();
  });
});
