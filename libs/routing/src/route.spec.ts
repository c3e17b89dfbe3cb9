import { describe, expect, it } from 'vitest';
import { decideRoute, type Rollout } from './route';
import { routePoint, RING_SIZE } from './route-point';

/** A seeded PRNG (mulberry32) so the statistical assertions never flake. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const all = () => true;
const rollout = (over: Partial<Rollout> = {}): Rollout => ({
  stable: 1,
  canary: 2,
  canaryWeight: 10,
  cohortRules: [],
  sticky: true,
  ...over,
});
const keys = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);

describe('decideRoute', () => {
  it('sends 10% ± 1.5% of 10,000 unkeyed requests to a 10% canary', () => {
    const random = seeded(42);
    let canary = 0;
    for (let i = 0; i < 10_000; i++) {
      if (decideRoute(rollout({ sticky: false }), { headers: {}, isAvailable: all, random }).version === 2) canary++;
    }
    expect(canary / 10_000).toBeGreaterThanOrEqual(0.085);
    expect(canary / 10_000).toBeLessThanOrEqual(0.115);
  });

  it('sends 10% ± 1.5% of 10,000 distinct route keys to a 10% canary', () => {
    const canary = keys.filter((routeKey) => decideRoute(rollout(), { headers: {}, routeKey, isAvailable: all }).version === 2);
    expect(canary.length / keys.length).toBeGreaterThanOrEqual(0.085);
    expect(canary.length / keys.length).toBeLessThanOrEqual(0.115);
  });

  it('keeps a sticky key on its version however often it comes back', () => {
    for (const routeKey of keys.slice(0, 200)) {
      const first = decideRoute(rollout(), { headers: {}, routeKey, isAvailable: all, random: seeded(1) }).version;
      for (let i = 0; i < 5; i++) {
        const again = decideRoute(rollout(), { headers: {}, routeKey, isAvailable: all, random: seeded(i + 7) }).version;
        expect(again).toBe(first);
      }
    }
  });

  it('moves only the keys between the old and new weight when the canary goes 10% → 20%', () => {
    const at = (w: number) => keys.map((routeKey) => decideRoute(rollout({ canaryWeight: w }), { headers: {}, routeKey, isAvailable: all }).version);
    const before = at(10);
    const after = at(20);
    const moved = before.filter((v, i) => v !== after[i]);
    const backToStable = before.filter((v, i) => v === 2 && after[i] === 1);
    expect(backToStable).toHaveLength(0);
    expect(moved.length / keys.length).toBeGreaterThanOrEqual(0.085);
    expect(moved.length / keys.length).toBeLessThanOrEqual(0.115);
  });

  it('routes a matching cohort header to its version, whatever the case of the header name', () => {
    const r = rollout({ canaryWeight: 0, cohortRules: [{ header: 'x-cohort', value: 'beta', version: 3 }] });
    expect(decideRoute(r, { headers: { 'X-Cohort': 'beta' }, isAvailable: all })).toEqual({ version: 3, reason: 'cohort' });
    expect(decideRoute(r, { headers: { 'x-cohort': 'alpha' }, isAvailable: all }).version).toBe(1);
  });

  it('lets a pinned version win over cohort and canary', () => {
    const r = rollout({ canaryWeight: 100, cohortRules: [{ header: 'x-cohort', value: 'beta', version: 3 }] });
    expect(decideRoute(r, { pinnedVersion: 5, headers: { 'x-cohort': 'beta' }, isAvailable: all })).toEqual({ version: 5, reason: 'pinned' });
  });

  it('gives a canary, cohort or shadow version no traffic until it is AVAILABLE', () => {
    const r = rollout({ canaryWeight: 100, cohortRules: [{ header: 'x-cohort', value: 'beta', version: 3 }], shadow: { version: 4, share: 100 } });
    const onlyStable = (v: number) => v === 1;
    expect(decideRoute(r, { headers: { 'x-cohort': 'beta' }, routeKey: 'k', isAvailable: onlyStable })).toEqual({ version: 1, reason: 'stable' });
  });

  it('mirrors the configured share of requests to the shadow version', () => {
    const random = seeded(9);
    const r = rollout({ canary: undefined, canaryWeight: 0, shadow: { version: 3, share: 25 } });
    let shadowed = 0;
    for (let i = 0; i < 10_000; i++) {
      const d = decideRoute(r, { headers: {}, isAvailable: all, random });
      expect(d.version).toBe(1);
      if (d.shadowVersion === 3) shadowed++;
    }
    expect(shadowed / 10_000).toBeGreaterThanOrEqual(0.235);
    expect(shadowed / 10_000).toBeLessThanOrEqual(0.265);
  });

  it('never shadows a request to the version that already answers it', () => {
    const r = rollout({ canaryWeight: 100, shadow: { version: 2, share: 100 } });
    expect(decideRoute(r, { headers: {}, isAvailable: all, random: () => 0 }).shadowVersion).toBeUndefined();
  });
});

describe('routePoint', () => {
  it('is stable and inside the ring', () => {
    expect(routePoint('abc')).toBe(routePoint('abc'));
    for (const k of keys.slice(0, 100)) {
      expect(routePoint(k)).toBeGreaterThanOrEqual(0);
      expect(routePoint(k)).toBeLessThan(RING_SIZE);
    }
  });
});
