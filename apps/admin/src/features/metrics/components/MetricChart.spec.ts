import { describe, expect, it } from 'vitest';
import { formatValue } from './MetricChart';

describe('metric values', () => {
  it('writes counts with the decimals they have, up to two: chart ticks at 0.25 read 0.25, not 0.3', () => {
    expect([0, 0.25, 0.75, 1, 11.2, 14.567].map((v) => formatValue('count', v))).toEqual(['0', '0.25', '0.75', '1', '11.2', '14.57']);
    expect(formatValue('count', null)).toBe('—');
  });
});
