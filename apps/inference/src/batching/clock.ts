/** Time source of the batcher, injectable so tests drive timeouts and deadlines by hand. */
export interface Clock {
  /** Milliseconds, monotonic, sub-millisecond resolution. */
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A pending batch timer must never keep a draining process alive.
    t.unref?.();
    return t;
  },
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
