import { RING_SIZE, canaryThreshold, routePoint } from './route-point';

/** A header value that sends a request to a version, e.g. x-cohort: beta → 2. */
export interface CohortRule {
  header: string;
  value: string;
  version: number;
}

export interface ShadowConfig {
  version: number;
  /** Percent of requests mirrored to the shadow, 0..100. */
  share: number;
}

/** A model's rollout as the router needs it; the persistence lib stores it. */
export interface Rollout {
  stable: number;
  canary?: number;
  /** Percent of traffic for the canary, 0..100 (two decimals are honoured). */
  canaryWeight: number;
  cohortRules: CohortRule[];
  /** With a route key, the same key gets the same version while the weight stays the same. */
  sticky: boolean;
  shadow?: ShadowConfig;
}

export type HeaderBag = Record<string, string | string[] | undefined>;

export interface RouteRequest {
  /** A version the caller named (x-servable-version or the URL); it always wins. */
  pinnedVersion?: number;
  headers: HeaderBag;
  /** x-servable-route-key; used only when the rollout is sticky. */
  routeKey?: string;
  /** Whether a version may take traffic now: a canary, cohort or shadow version gets none until AVAILABLE. */
  isAvailable: (version: number) => boolean;
  /** Uniform in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
}

export type RouteReason = 'pinned' | 'cohort' | 'sticky-canary' | 'sticky-stable' | 'canary' | 'stable';

export interface RouteDecision {
  version: number;
  reason: RouteReason;
  /** Also send the request here and discard the answer (record agreement and latency). */
  shadowVersion?: number;
}

/**
 * Picks the version for one request. Order: a pinned version, then a matching cohort
 * rule, then the canary split (consistent hashing with a sticky route key, a weighted
 * draw otherwise), then stable. Pure: no I/O, no clock.
 */
export function decideRoute(rollout: Rollout, request: RouteRequest): RouteDecision {
  const random = request.random ?? Math.random;
  const primary = choosePrimary(rollout, request, random);
  const shadow = rollout.shadow;
  if (
    shadow &&
    shadow.share > 0 &&
    shadow.version !== primary.version &&
    request.isAvailable(shadow.version) &&
    random() * 100 < shadow.share
  ) {
    return { ...primary, shadowVersion: shadow.version };
  }
  return primary;
}

function choosePrimary(rollout: Rollout, request: RouteRequest, random: () => number): RouteDecision {
  if (request.pinnedVersion !== undefined) return { version: request.pinnedVersion, reason: 'pinned' };

  for (const rule of rollout.cohortRules) {
    if (headerValue(request.headers, rule.header) === rule.value && request.isAvailable(rule.version)) {
      return { version: rule.version, reason: 'cohort' };
    }
  }

  const canary = rollout.canary;
  if (canary === undefined || canary === rollout.stable || rollout.canaryWeight <= 0 || !request.isAvailable(canary)) {
    return { version: rollout.stable, reason: 'stable' };
  }
  const threshold = canaryThreshold(rollout.canaryWeight);
  if (rollout.sticky && request.routeKey) {
    // Canary owns [0, threshold): raising the weight only adds the keys between the old
    // and the new threshold, so no key ever moves from canary back to stable.
    return routePoint(request.routeKey) < threshold
      ? { version: canary, reason: 'sticky-canary' }
      : { version: rollout.stable, reason: 'sticky-stable' };
  }
  return random() * RING_SIZE < threshold ? { version: canary, reason: 'canary' } : { version: rollout.stable, reason: 'stable' };
}

/** Header names are case-insensitive; Node lower-cases them, other callers may not. */
function headerValue(headers: HeaderBag, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}
