/** Points on the routing ring: 10,000 slots give weights a resolution of 0.01 %. */
export const RING_SIZE = 10_000;

/**
 * Maps a route key to a fixed point in [0, RING_SIZE). FNV-1a spreads the bytes and
 * murmur3's finaliser mixes the high bits down, so keys that differ in one character
 * still land far apart. The point depends on the key alone, never on the weight: that is
 * what keeps a key on its version while the weight stays the same.
 */
export function routePoint(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % RING_SIZE;
}

/** The ring points below this threshold go to the canary. */
export function canaryThreshold(weightPercent: number): number {
  return Math.round(Math.min(100, Math.max(0, weightPercent)) * (RING_SIZE / 100));
}
