import { describe, expect, it } from 'vitest';
import { warmUntilStable, warmupNote } from './_load.mjs';

/** A path whose throughput follows `rates`, one value per window, then stays at the last one. */
const path = (rates) => {
  let window = 0;
  const calls = [];
  return {
    calls,
    run: async (seconds) => {
      calls.push(seconds);
      return { rps: rates[Math.min(window++, rates.length - 1)] };
    },
  };
};

describe('warmUntilStable', () => {
  it('keeps warming while the JIT is still speeding the path up, and stops once three windows agree within 5%', async () => {
    // The gateway's c=1 curve, roughly: it climbs for a while, then holds.
    const p = path([54, 87, 95, 102, 113, 124, 151, 160, 300, 305, 298]);
    const w = await warmUntilStable(p.run, { windowSeconds: 2, maxSeconds: 60 });
    expect(w).toEqual({ seconds: 22, stable: true });
    expect(p.calls.every((s) => s === 2)).toBe(true);
  });

  it('needs three windows even when the first two agree', async () => {
    const p = path([100, 100, 100]);
    expect(await warmUntilStable(p.run, { windowSeconds: 2, maxSeconds: 60 })).toEqual({ seconds: 6, stable: true });
  });

  it('gives up at the limit and says the path never held steady', async () => {
    const p = path(Array.from({ length: 100 }, (_, i) => (i % 2 ? 100 : 130)));
    const w = await warmUntilStable(p.run, { windowSeconds: 2, maxSeconds: 20 });
    expect(w).toEqual({ seconds: 20, stable: false });
    expect(warmupNote(w)).toBe('warmed 20 s (not steady within the limit)');
    expect(warmupNote({ seconds: 6, stable: true })).toBe('warmed 6 s');
  });
});
