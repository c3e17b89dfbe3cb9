import type { CanaryRunInput } from '../../api/types';

/** The start form's fields as typed (percentages as the operator thinks of them). */
export interface CanaryDraft {
  canary: string;
  steps: string;
  stepSeconds: string;
  maxErrorRatePercent: string;
  maxP99Ratio: string;
  minAgreementPercent: string;
  minRequests: string;
  mirrorShare: string;
  sticky: boolean;
}

export const DEFAULT_DRAFT: Omit<CanaryDraft, 'canary'> = {
  steps: '10, 50, 100',
  stepSeconds: '60',
  maxErrorRatePercent: '1',
  maxP99Ratio: '1.5',
  minAgreementPercent: '95',
  minRequests: '100',
  mirrorShare: '50',
  sticky: true,
};

/** The request body, or what is wrong with the draft (the server checks the same and more). */
export function inputFromDraft(d: CanaryDraft): CanaryRunInput | string {
  const canary = Number(d.canary);
  if (!Number.isInteger(canary) || canary <= 0) return 'Choose the canary version.';
  const steps = d.steps.split(/[\s,]+/).filter(Boolean).map(Number);
  if (steps.length === 0 || steps.some((s) => !Number.isFinite(s) || s <= 0 || s > 100)) return 'Steps are weights in percent between 0 and 100, e.g. 10, 50, 100.';
  if (steps.some((s, i) => i > 0 && s <= steps[i - 1])) return 'Steps must go up.';
  if (steps[steps.length - 1] !== 100) return 'The last step must be 100.';
  const num = (text: string) => (text.trim() === '' ? NaN : Number(text));
  const stepSeconds = num(d.stepSeconds);
  if (!Number.isInteger(stepSeconds) || stepSeconds < 1) return 'Step duration is a whole number of seconds.';
  const maxErrorRate = num(d.maxErrorRatePercent) / 100;
  const minAgreement = num(d.minAgreementPercent) / 100;
  const maxP99Ratio = num(d.maxP99Ratio);
  const minRequests = num(d.minRequests);
  const mirrorShare = num(d.mirrorShare);
  if (!(maxErrorRate >= 0 && maxErrorRate <= 1)) return 'Max error rate is a percentage.';
  if (!(minAgreement >= 0 && minAgreement <= 1)) return 'Min agreement is a percentage.';
  if (!(maxP99Ratio >= 1)) return 'Max p99 ratio is at least 1.';
  if (!Number.isInteger(minRequests) || minRequests < 1) return 'Min requests is a whole number of at least 1.';
  if (!(mirrorShare >= 0 && mirrorShare <= 100)) return 'Mirror share is a percentage.';
  return { canary, steps, stepSeconds, gates: { maxErrorRate, maxP99Ratio, minAgreement, minRequests }, sticky: d.sticky, mirrorShare };
}
