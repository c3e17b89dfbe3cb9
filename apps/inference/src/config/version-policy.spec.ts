import { describe, expect, it } from 'vitest';
import { parseVersionPolicy, selectVersions } from './version-policy';

describe('model version policy', () => {
  it('parses all, latest:N and specific lists', () => {
    expect(parseVersionPolicy('all')).toEqual({ kind: 'all' });
    expect(parseVersionPolicy('latest:2')).toEqual({ kind: 'latest', count: 2 });
    expect(parseVersionPolicy('specific:spam=1,2;other=3')).toEqual({ kind: 'specific', versions: { spam: [1, 2], other: [3] } });
    expect(() => parseVersionPolicy('newest')).toThrow(/MODEL_VERSION_POLICY/);
  });

  it('selects versions among those present', () => {
    expect(selectVersions({ kind: 'latest', count: 1 }, 'spam', [2, 1, 3])).toEqual([3]);
    expect(selectVersions({ kind: 'specific', versions: { spam: [1, 5] } }, 'spam', [1, 2])).toEqual([1]);
    expect(selectVersions({ kind: 'all' }, 'spam', [2, 1])).toEqual([1, 2]);
  });
});
