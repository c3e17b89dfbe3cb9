import { describe, expect, it } from 'vitest';
import { DEFAULT_DRAFT, inputFromDraft } from './canary-draft';

describe('canary draft', () => {
  it('turns percentages into the fractions the API takes', () => {
    expect(inputFromDraft({ ...DEFAULT_DRAFT, canary: '3', maxErrorRatePercent: '0.5', minAgreementPercent: '99' })).toEqual({
      canary: 3,
      steps: [10, 50, 100],
      stepSeconds: 60,
      gates: { maxErrorRate: 0.005, maxP99Ratio: 1.5, minAgreement: 0.99, minRequests: 100 },
      sticky: true,
      mirrorShare: 50,
    });
  });

  it.each([
    [{ canary: '' }, 'Choose the canary version.'],
    [{ steps: '10, 50' }, 'The last step must be 100.'],
    [{ steps: '50 50 100' }, 'Steps must go up.'],
    [{ steps: '0, 100' }, 'Steps are weights in percent between 0 and 100, e.g. 10, 50, 100.'],
    [{ stepSeconds: '2.5' }, 'Step duration is a whole number of seconds.'],
    [{ maxP99Ratio: '0.9' }, 'Max p99 ratio is at least 1.'],
    [{ minRequests: '' }, 'Min requests is a whole number of at least 1.'],
  ])('refuses %o', (patch, message) => {
    expect(inputFromDraft({ ...DEFAULT_DRAFT, canary: '2', ...patch })).toBe(message);
  });
});
