import type { CanaryGates } from '@servable/contracts/admin-api';
import { quantile } from '../metrics/histogram';

/**
 * One-sided 95%: a gate fails only when the data says the canary is worse with 95%
 * confidence, so a handful of unlucky requests at the minimum sample size does not
 * roll back a good version.
 */
export const Z_95_ONE_SIDED = 1.6449;

/** Default for `gates.p99ToleranceMs`: about one step of the latency histogram at small latencies. */
export const DEFAULT_P99_TOLERANCE_MS = 5;

/** What one version did in the analysis window. */
export interface VersionWindow {
  requests: number;
  errors: number;
  /** Latency histogram counts (LATENCY_BOUNDS_MS). */
  latency: number[];
}

export interface CanaryWindow {
  canary: VersionWindow;
  stable: VersionWindow;
  /** Canary requests mirrored to stable, and the sum of their per-request agreement (0..1 each). */
  comparisons: number;
  agreementSum: number;
}

export interface GateVerdict {
  /** 'pass' goes on, 'fail' rolls back, 'thin' means too few requests to judge: extend the step. */
  outcome: 'pass' | 'fail' | 'thin';
  reason: string;
  requests: number;
  errorRate: number | null;
  p99Ms: number | null;
  stableRequests: number;
  stableErrorRate: number | null;
  stableP99Ms: number | null;
  comparisons: number;
  agreement: number | null;
  errorZ: number | null;
  agreementUpper: number | null;
}

/**
 * Wilson score interval of a proportion x/n at z. Unlike the normal approximation it
 * stays inside [0, 1] and is honest at small n and at rates near 0 or 1, which is where
 * canary error rates live.
 */
export function wilsonInterval(x: number, n: number, z = Z_95_ONE_SIDED): { lower: number; upper: number } {
  if (n <= 0) return { lower: 0, upper: 1 };
  const p = x / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

/**
 * Pooled two-proportion z statistic for x1/n1 against x2/n2; positive when the first
 * rate is higher. Null when either side has no requests, or when both rates are 0 or
 * both 1 (no variance: nothing to tell apart).
 */
export function twoProportionZ(x1: number, n1: number, x2: number, n2: number): number | null {
  if (n1 <= 0 || n2 <= 0) return null;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return null;
  return (x1 / n1 - x2 / n2) / se;
}

/**
 * The verdict on one step. Order: enough canary requests (else 'thin'), then error
 * rate, p99 and agreement; the first gate that fails is the reason.
 *
 * - Error rate: within `maxErrorRate` always passes. Above it, the canary fails when a
 *   one-sided two-proportion z-test says it errs more than stable (z > 1.645); when
 *   stable has no requests in the window (the 100 % step), when the 95% Wilson lower
 *   bound of its rate is above `maxErrorRate`. A canary over budget but no worse than
 *   stable is not the canary's fault (a shared dependency is failing) and passes.
 * - p99: fails when the canary's p99 exceeds `maxP99Ratio` × stable's and also exceeds
 *   it by more than `p99ToleranceMs`. Without stable traffic in the window the caller
 *   passes the last stable p99 it saw (`stableP99Fallback`).
 * - Agreement: fails when the 95% Wilson upper bound of the share of mirrored requests
 *   that agreed with stable is below `minAgreement`. With no comparison yet the step is
 *   'thin' as long as `minAgreement` > 0.
 */
export function judgeWindow(w: CanaryWindow, gates: CanaryGates, stableP99Fallback: number | null = null): GateVerdict {
  const errorRate = w.canary.requests > 0 ? w.canary.errors / w.canary.requests : null;
  const stableErrorRate = w.stable.requests > 0 ? w.stable.errors / w.stable.requests : null;
  const p99Ms = quantile(w.canary.latency, 0.99);
  const stableP99Ms = quantile(w.stable.latency, 0.99) ?? stableP99Fallback;
  const agreement = w.comparisons > 0 ? w.agreementSum / w.comparisons : null;
  const errorZ = twoProportionZ(w.canary.errors, w.canary.requests, w.stable.errors, w.stable.requests);
  const agreementUpper = w.comparisons > 0 ? wilsonInterval(w.agreementSum, w.comparisons).upper : null;
  const base = {
    requests: w.canary.requests,
    errorRate,
    p99Ms,
    stableRequests: w.stable.requests,
    stableErrorRate,
    stableP99Ms,
    comparisons: w.comparisons,
    agreement,
    errorZ,
    agreementUpper,
  };
  const verdict = (outcome: GateVerdict['outcome'], reason: string): GateVerdict => ({ outcome, reason, ...base });

  if (w.canary.requests < gates.minRequests) return verdict('thin', `${w.canary.requests} canary requests < minRequests ${gates.minRequests}`);
  if (gates.minAgreement > 0 && w.comparisons === 0) return verdict('thin', 'no mirrored request compared with stable yet');

  if (errorRate !== null && errorRate > gates.maxErrorRate) {
    if (w.stable.requests > 0) {
      if (errorZ !== null && errorZ > Z_95_ONE_SIDED) {
        return verdict('fail', `error rate ${pct(errorRate)} > maxErrorRate ${pct(gates.maxErrorRate)} and above stable's ${pct(stableErrorRate ?? 0)} (z = ${errorZ.toFixed(2)} > ${Z_95_ONE_SIDED})`);
      }
    } else {
      const lower = wilsonInterval(w.canary.errors, w.canary.requests).lower;
      if (lower > gates.maxErrorRate) return verdict('fail', `error rate ${pct(errorRate)}: its 95% Wilson lower bound ${pct(lower)} > maxErrorRate ${pct(gates.maxErrorRate)}`);
    }
  }

  const tolerance = gates.p99ToleranceMs ?? DEFAULT_P99_TOLERANCE_MS;
  if (p99Ms !== null && stableP99Ms !== null && p99Ms > gates.maxP99Ratio * stableP99Ms && p99Ms - stableP99Ms > tolerance) {
    return verdict('fail', `p99 ${p99Ms.toFixed(1)} ms > ${gates.maxP99Ratio} × stable's ${stableP99Ms.toFixed(1)} ms`);
  }

  if (agreementUpper !== null && agreement !== null && agreementUpper < gates.minAgreement) {
    return verdict('fail', `agreement ${pct(agreement)} over ${w.comparisons} mirrored requests: its 95% upper bound ${pct(agreementUpper)} < minAgreement ${pct(gates.minAgreement)}`);
  }
  return verdict('pass', 'passed');
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x < 0.01 && x > 0 ? 2 : 1)}%`;
}
