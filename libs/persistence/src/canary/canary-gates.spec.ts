import type { CanaryGates } from '@servable/contracts/admin-api';
import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS, bucketIndex } from '../metrics/histogram';
import { judgeWindow, twoProportionZ, wilsonInterval, type VersionWindow } from './canary-gates';

const GATES: CanaryGates = { maxErrorRate: 0.01, maxP99Ratio: 1.5, minAgreement: 0.95, minRequests: 100 };

/** A version's window: n requests, `errors` of them failed, every latency `ms`. */
function version(n: number, errors: number, ms = 10): VersionWindow {
  const latency = new Array<number>(LATENCY_BUCKETS).fill(0);
  latency[bucketIndex(ms)] = n;
  return { requests: n, errors, latency };
}

describe('canary gate statistics', () => {
  it('computes the Wilson interval (reference values at z = 1.6449)', () => {
    // 0 of 100: the upper bound is ~2.6%, not 0 as the normal approximation claims.
    const zero = wilsonInterval(0, 100);
    expect(zero.lower).toBeCloseTo(0, 12);
    expect(zero.upper).toBeCloseTo(0.02634, 4);
    // 10 of 100.
    const ten = wilsonInterval(10, 100);
    expect(ten.lower).toBeCloseTo(0.06072, 4);
    expect(ten.upper).toBeCloseTo(0.16036, 4);
    expect(wilsonInterval(0, 0)).toEqual({ lower: 0, upper: 1 });
  });

  it('computes the pooled two-proportion z statistic', () => {
    // 10/200 against 2/400: pooled p = 12/600, se = sqrt(0.02 × 0.98 × (1/200 + 1/400)).
    expect(twoProportionZ(10, 200, 2, 400)).toBeCloseTo(0.045 / Math.sqrt(0.02 * 0.98 * (1 / 200 + 1 / 400)), 10);
    expect(twoProportionZ(0, 100, 0, 100)).toBeNull();
    expect(twoProportionZ(1, 0, 1, 100)).toBeNull();
  });

  it('calls a step thin below minRequests or before any mirrored comparison', () => {
    expect(judgeWindow({ canary: version(99, 0), stable: version(900, 0), comparisons: 50, agreementSum: 50 }, GATES).outcome).toBe('thin');
    expect(judgeWindow({ canary: version(100, 0), stable: version(900, 0), comparisons: 0, agreementSum: 0 }, GATES).outcome).toBe('thin');
    // Without an agreement gate, no comparison is needed.
    expect(judgeWindow({ canary: version(100, 0), stable: version(900, 0), comparisons: 0, agreementSum: 0 }, { ...GATES, minAgreement: 0 }).outcome).toBe('pass');
  });

  it('does not roll back on noise: 2 errors in 100 against stable\'s 5 in 900 is over budget but not significant', () => {
    const v = judgeWindow({ canary: version(100, 2), stable: version(900, 5), comparisons: 50, agreementSum: 50 }, GATES);
    expect(v.errorRate).toBe(0.02);
    expect(v.errorZ).toBeLessThan(1.6449);
    expect(v.outcome).toBe('pass');
  });

  it('rolls back a canary that errs significantly more than stable', () => {
    const v = judgeWindow({ canary: version(100, 8), stable: version(900, 5), comparisons: 50, agreementSum: 50 }, GATES);
    expect(v.errorZ).toBeGreaterThan(1.6449);
    expect(v.outcome).toBe('fail');
    expect(v.reason).toMatch(/^error rate 8\.0% > maxErrorRate 1\.0%/);
  });

  it('passes a canary that errs as much as stable: the fault is shared, not the canary\'s', () => {
    expect(judgeWindow({ canary: version(200, 20), stable: version(800, 80), comparisons: 50, agreementSum: 50 }, GATES).outcome).toBe('pass');
  });

  it('judges the 100 % step, with no stable traffic, by the Wilson lower bound against maxErrorRate', () => {
    // 3/200 = 1.5% is over 1%, but its lower bound (~0.6%) is not: pass.
    expect(judgeWindow({ canary: version(200, 3), stable: version(0, 0), comparisons: 50, agreementSum: 50 }, GATES).outcome).toBe('pass');
    // 10/200 = 5%: lower bound ~3% > 1%: fail.
    const v = judgeWindow({ canary: version(200, 10), stable: version(0, 0), comparisons: 50, agreementSum: 50 }, GATES);
    expect(v.outcome).toBe('fail');
    expect(v.reason).toMatch(/Wilson lower bound/);
  });

  it('fails a p99 above maxP99Ratio × stable\'s, but not within the tolerance or the ratio', () => {
    const slow = judgeWindow({ canary: version(100, 0, 400), stable: version(900, 0, 40), comparisons: 50, agreementSum: 50 }, GATES);
    expect(slow.outcome).toBe('fail');
    expect(slow.reason).toMatch(/^p99 /);
    // 4 ms against 2 ms is twice as slow but within the 5 ms histogram tolerance.
    expect(judgeWindow({ canary: version(100, 0, 4), stable: version(900, 0, 2), comparisons: 50, agreementSum: 50 }, GATES).outcome).toBe('pass');
    // 45 ms against 40 ms is within the ratio.
    expect(judgeWindow({ canary: version(100, 0, 45), stable: version(900, 0, 40), comparisons: 50, agreementSum: 50 }, GATES).outcome).toBe('pass');
    // No stable traffic (100 % step): the last stable p99 the run saw stands in.
    expect(judgeWindow({ canary: version(100, 0, 400), stable: version(0, 0), comparisons: 50, agreementSum: 50 }, GATES, 40).outcome).toBe('fail');
  });

  it('fails agreement only when the Wilson upper bound is below minAgreement', () => {
    // 45 of 50 agree (90%): the upper bound ~95.6% still reaches 95%.
    const close = judgeWindow({ canary: version(100, 0), stable: version(900, 0), comparisons: 50, agreementSum: 45 }, GATES);
    expect(close.agreement).toBe(0.9);
    expect(close.agreementUpper).toBeGreaterThan(0.95);
    expect(close.outcome).toBe('pass');
    // Labels swapped: nothing agrees. Even 5 comparisons are enough to say so.
    const swapped = judgeWindow({ canary: version(100, 0), stable: version(900, 0), comparisons: 5, agreementSum: 0 }, GATES);
    expect(swapped.outcome).toBe('fail');
    expect(swapped.reason).toMatch(/^agreement 0\.0% over 5 mirrored requests/);
  });
});
