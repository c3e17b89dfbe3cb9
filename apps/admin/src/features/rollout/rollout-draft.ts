import type { CohortRule, RolloutInput, RolloutView } from '../../api/types';

/** The rollout form's state: a RolloutView without ids and times, with "none" spelled null. */
export interface RolloutDraft {
  /** null: follow the `stable` label. */
  stable: number | null;
  canary: number | null;
  canaryWeight: number;
  cohortRules: CohortRule[];
  sticky: boolean;
  shadow: { version: number; share: number } | null;
}

/** What a model without a rollout does: everything to the stable label, sticky as the server defaults. */
export const NO_ROLLOUT: RolloutDraft = { stable: null, canary: null, canaryWeight: 0, cohortRules: [], sticky: true, shadow: null };

export function draftFromRollout(r: RolloutView | null): RolloutDraft {
  if (!r) return NO_ROLLOUT;
  return normalize({
    stable: r.stableVersion,
    canary: r.canary ?? null,
    canaryWeight: r.canaryWeight,
    cohortRules: r.cohortRules,
    sticky: r.sticky,
    shadow: r.shadow ?? null,
  });
}

/** A weight without a canary means nothing; drop it so it neither shows in the diff nor is sent. */
export function normalize(d: RolloutDraft): RolloutDraft {
  return d.canary === null ? { ...d, canaryWeight: 0 } : d;
}

/** PUT replaces the whole rollout, so every field is sent; omitted ones mean "none". */
export function draftToInput(d: RolloutDraft): RolloutInput {
  const n = normalize(d);
  const input: RolloutInput = { canaryWeight: n.canaryWeight, cohortRules: n.cohortRules, sticky: n.sticky };
  if (n.stable !== null) input.stable = n.stable;
  if (n.canary !== null) input.canary = n.canary;
  if (n.shadow !== null) input.shadow = n.shadow;
  return input;
}

export interface DiffLine {
  field: string;
  before: string;
  after: string;
}

const ruleText = (r: CohortRule) => `${r.header}: ${r.value} → v${r.version}`;

/** What saving would change, field by field, in words; empty when nothing would. */
export function diffDrafts(current: RolloutDraft, edited: RolloutDraft, stableLabel?: number): DiffLine[] {
  const a = normalize(current);
  const b = normalize(edited);
  const lines: DiffLine[] = [];
  const stableText = (v: number | null) => (v !== null ? `v${v}` : `follows the stable label${stableLabel !== undefined ? ` (v${stableLabel})` : ''}`);
  const canaryText = (v: number | null) => (v !== null ? `v${v}` : 'none');
  const shadowText = (s: RolloutDraft['shadow']) => (s ? `v${s.version} at ${s.share}%` : 'none');

  if (a.stable !== b.stable) lines.push({ field: 'Stable', before: stableText(a.stable), after: stableText(b.stable) });
  if (a.canary !== b.canary) lines.push({ field: 'Canary', before: canaryText(a.canary), after: canaryText(b.canary) });
  if (a.canaryWeight !== b.canaryWeight) lines.push({ field: 'Canary weight', before: `${a.canaryWeight}%`, after: `${b.canaryWeight}%` });
  if (a.sticky !== b.sticky) lines.push({ field: 'Sticky', before: a.sticky ? 'on' : 'off', after: b.sticky ? 'on' : 'off' });
  if (shadowText(a.shadow) !== shadowText(b.shadow)) lines.push({ field: 'Shadow', before: shadowText(a.shadow), after: shadowText(b.shadow) });

  const before = a.cohortRules.map(ruleText);
  const after = b.cohortRules.map(ruleText);
  for (const r of before) if (!after.includes(r)) lines.push({ field: 'Cohort pin', before: r, after: 'removed' });
  for (const r of after) if (!before.includes(r)) lines.push({ field: 'Cohort pin', before: 'none', after: r });
  // Rules are tried in order, so a reordering alone is a change too.
  if (lines.every((l) => l.field !== 'Cohort pin') && before.join('\n') !== after.join('\n')) {
    lines.push({ field: 'Cohort pin order', before: before.join(', '), after: after.join(', ') });
  }
  return lines;
}

/** The server's rule for cohort headers (rolloutInputSchema), checked before a rule is added. */
export const HEADER_NAME = /^[A-Za-z0-9-]+$/;
