import { describe, expect, it } from 'vitest';
import { utf16Offsets } from './tokenize.service';

describe('utf16Offsets', () => {
  it('leaves offsets alone when every character is one UTF-16 unit (accents and CJK included)', () => {
    const map = utf16Offsets('naïve 日本');
    expect([0, 3, 6, 8].map(map)).toEqual([0, 3, 6, 8]);
  });

  it('moves offsets after a character outside the BMP by its extra unit', () => {
    const text = 'a😀b 🚢🚢 c';
    const map = utf16Offsets(text);
    // Code points: a=0 😀=1 b=2 ' '=3 🚢=4 🚢=5 ' '=6 c=7, end=8.
    expect(text.slice(map(1), map(2))).toBe('😀');
    expect(text.slice(map(2), map(3))).toBe('b');
    expect(text.slice(map(4), map(6))).toBe('🚢🚢');
    expect(text.slice(map(7), map(8))).toBe('c');
    expect(map(8)).toBe(text.length);
  });
});
