import { z } from 'zod';
import { ROLES } from '../admin-api';
import { INT32_MAX, PATH } from '../validation';

// The admin API's request bodies (docs/admin-api.md). Their types live in admin-api.ts,
// inferred from these, so the console gets the types without bundling zod.

// Version numbers are PostgreSQL `integer` columns: a larger number can name no version, and
// PostgreSQL refuses even to compare with it (a 500), so it is refused here as a 400.
const versionNumber = `${PATH} must be a version number from 1 to ${INT32_MAX}`;
const version = z.int32({ error: versionNumber }).min(1, { error: versionNumber });
const percent = z.number().min(0).max(100);
const share = z.number().min(0).max(1);

/** Requests whose header has this value go to this version. */
export const cohortRuleSchema = z.object({
  header: z.string().regex(/^[A-Za-z0-9-]+$/, `${PATH} must be a header name (letters, digits and -)`).max(100),
  value: z.string().min(1).max(200),
  version,
});

/** PUT /admin/api/models/:model/rollout */
export const rolloutInputSchema = z
  .object({
    stable: version.optional().describe('Omit to follow the `stable` label'),
    canary: version.optional(),
    canaryWeight: percent.default(0).describe('Percent of traffic to the canary, 0..100'),
    cohortRules: z.array(cohortRuleSchema).max(50).default([]),
    sticky: z.boolean().default(true),
    shadow: z.object({ version, share: percent }).optional(),
  })
  .strict()
  .refine((r) => !(r.canaryWeight > 0 && r.canary === undefined), { path: ['canaryWeight'], message: 'canaryWeight needs a canary version' })
  // Headers match case-insensitively and the first rule wins, so a second rule for the same header and value would never apply.
  .refine((r) => new Set(r.cohortRules.map((c) => `${c.header.toLowerCase()}\n${c.value}`)).size === r.cohortRules.length, {
    path: ['cohortRules'],
    message: 'two cohort rules match the same header and value; the second would never apply',
  });

/** The analysis a canary run applies at the end of every step (docs/canary.md). */
export const canaryGatesSchema = z
  .object({
    maxErrorRate: share.describe("Error budget 0..1: above it the canary fails if its rate is significantly above stable's (one-sided two-proportion z-test, 95%)"),
    maxP99Ratio: z.number().min(1).describe("The canary's p99 over the window may be at most this many times stable's"),
    minAgreement: share.describe("0..1: share of mirrored requests whose top label matches stable's; fails when the 95% Wilson upper bound is below it"),
    minRequests: z.int().min(1).max(1_000_000).describe('Canary requests a step needs before it is judged; fewer extend the step'),
    p99ToleranceMs: z.number().min(0).optional().describe("p99 differences up to this are within the histogram's resolution and never fail (default 5)"),
  })
  .strict();

/** POST /admin/api/models/:model/canary-runs */
export const canaryRunInputSchema = z
  .object({
    canary: version,
    steps: z
      .array(z.number().gt(0).max(100))
      .min(1)
      .max(20)
      .refine((s) => s.every((w, i) => i === 0 || w > s[i - 1]), 'steps must be ascending')
      .refine((s) => s[s.length - 1] === 100, 'the last step must be 100')
      .describe('Canary weights in percent, ascending, ending at 100')
      .meta({ example: [10, 50, 100] }),
    // Bounded below by the 10 s metric buckets' flush cadence being useful at all, above by a day.
    stepSeconds: z.int().min(1).max(86_400),
    gates: canaryGatesSchema,
    sticky: z.boolean().default(true),
    mirrorShare: percent.default(50).describe('Percent of canary requests also sent to stable in the background to measure agreement'),
    maxExtensions: z.int().min(0).max(100).default(3).describe('How often a step with fewer than minRequests is extended by stepSeconds before the run FAILS'),
  })
  .strict();

const body = { error: (iss: { code: string }) => (iss.code === 'invalid_type' ? 'the body must be a JSON object' : undefined) };
const versionOrNull = () => `${PATH} must be a version number from 1 to ${INT32_MAX}, or null`;

/** PUT /admin/api/models/:model/labels: move or add (a version) or remove (null) labels, all at once. */
export const labelsInputSchema = z.object(
  {
    labels: z
      .record(z.string(), z.int32({ error: versionOrNull }).min(1, { error: versionOrNull }).nullable(), { error: `${PATH} must be an object of label: version or null` })
      .meta({ example: { stable: 2, canary: null } }),
  },
  body,
);

/** PUT /admin/api/models/:model/versions/:version/pin */
export const pinInputSchema = z.object({ pinned: z.boolean({ error: '"pinned" must be true or false' }) }, body);

const keyName = 'a key needs a name of 1 to 128 characters, not only spaces';

/** POST /admin/api/api-keys. Strict: a field it does not know (an expiry, say) would otherwise be dropped while the caller believes it applies. */
export const apiKeyInputSchema = z
  .object(
    {
      name: z
        .string({ error: '"name" must be a string' })
        .min(1, keyName)
        .max(128, keyName)
        // The name is how the audit log and the key list tell keys apart.
        .refine((name) => name.trim().length > 0, keyName),
      role: z.enum(ROLES, { error: `role must be one of ${ROLES.join(', ')}` }),
    },
    body,
  )
  .strict();
