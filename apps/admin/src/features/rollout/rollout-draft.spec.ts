import { describe, expect, it } from 'vitest';
import type { RolloutView } from '../../api/types';
import { diffDrafts, draftFromRollout, draftToInput, NO_ROLLOUT } from './rollout-draft';

const view: RolloutView = {
  model: 'spam',
  stableVersion: null,
  canary: 2,
  canaryWeight: 10,
  cohortRules: [{ header: 'x-cohort', value: 'beta', version: 2 }],
  sticky: true,
  shadow: { version: 3, share: 5 },
  updatedAt: '2026-01-01T00:00:00Z',
};

describe('rollout draft', () => {
  it('sends the whole rollout, leaving out what is none', () => {
    expect(draftToInput(draftFromRollout(view))).toEqual({
      canary: 2,
      canaryWeight: 10,
      cohortRules: [{ header: 'x-cohort', value: 'beta', version: 2 }],
      sticky: true,
      shadow: { version: 3, share: 5 },
    });
    expect(draftToInput({ ...NO_ROLLOUT, canaryWeight: 40 })).toEqual({ canaryWeight: 0, cohortRules: [], sticky: true });
  });

  it('describes each change in words', () => {
    const current = draftFromRollout(view);
    const edited = { ...current, canaryWeight: 25, sticky: false, shadow: null, cohortRules: [{ header: 'x-team', value: 'ml', version: 1 }] };
    expect(diffDrafts(current, edited, 1)).toEqual([
      { field: 'Canary weight', before: '10%', after: '25%' },
      { field: 'Sticky', before: 'on', after: 'off' },
      { field: 'Shadow', before: 'v3 at 5%', after: 'none' },
      { field: 'Cohort pin', before: 'x-cohort: beta → v2', after: 'removed' },
      { field: 'Cohort pin', before: 'none', after: 'x-team: ml → v1' },
    ]);
  });

  it('sees no change in a weight without a canary', () => {
    expect(diffDrafts(NO_ROLLOUT, { ...NO_ROLLOUT, canaryWeight: 30 })).toEqual([]);
    expect(diffDrafts(NO_ROLLOUT, { ...NO_ROLLOUT, stable: 2 }, 1)).toEqual([{ field: 'Stable', before: 'follows the stable label (v1)', after: 'v2' }]);
  });
});
