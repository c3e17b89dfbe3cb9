import { describe, expect, it } from 'vitest';
import { hashForPath, parseHash } from './router';

describe('router', () => {
  it('reads a page and its model from the hash, and anything else as the overview', () => {
    expect(parseHash('#/rollout/spam')).toEqual({ page: 'rollout', model: 'spam' });
    expect(parseHash('#/playground/spam?text=hi')).toEqual({ page: 'playground', model: 'spam' });
    expect(parseHash('#main')).toEqual({ page: 'overview' });
  });

  it('sends a page typed as a path (/admin/rollout) to its hash, and leaves the console’s own URLs alone', () => {
    expect(hashForPath('/admin/rollout', '')).toBe('#/rollout');
    expect(hashForPath('/admin/rollout/spam/', '')).toBe('#/rollout/spam');
    expect(hashForPath('/admin/', '')).toBeUndefined();
    expect(hashForPath('/admin/index.html', '')).toBeUndefined();
    expect(hashForPath('/admin/rollout', '#/models')).toBeUndefined();
    expect(hashForPath('/admin/no-such-page', '')).toBeUndefined();
  });
});
