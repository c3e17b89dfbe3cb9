// The admin API's wire shapes (docs/admin-api.md): one definition for the gateway that
// answers with them (through @servable/persistence) and the console that reads them.
// Request bodies are zod schemas, which the gateway validates with and documents in its
// OpenAPI; their types are inferred. Nothing Node-specific, so the browser bundle can use it.
import { z } from 'zod';
import { PATH } from './validation';

/** Lowest first, as the gateway ranks them. */
export const ROLES = ['client', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** TF Serving's ModelVersionStatus states. START = registered, never loaded. */
export const VERSION_STATES = ['START', 'LOADING', 'AVAILABLE', 'UNLOADING', 'END', 'FAILED'] as const;
export type VersionState = (typeof VERSION_STATES)[number];

export interface ApiKeyView {
  id: number;
  name: string;
  prefix: string;
  role: Role;
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface SessionView {
  auth: 'on' | 'off';
  /** null when asked without a key while auth is on: the console must sign in. */
  role: Role | null;
  key: ApiKeyView | null;
}

/** One data-plane replica's grpc.health.v1 status as the gateway last read it (UNKNOWN: not read yet). */
export interface ReplicaHealthView {
  address: string;
  status: 'SERVING' | 'NOT_SERVING' | 'UNREACHABLE' | 'UNKNOWN';
  detail?: string;
}

export interface ServiceHealth {
  name: 'gateway' | 'tokenizer' | 'inference';
  /** SERVING when at least one replica is. */
  status: 'SERVING' | 'NOT_SERVING' | 'UNREACHABLE';
  /** inference: the TF.js backend in use, e.g. "wasm". */
  backend?: string;
  detail?: string;
  /** tokenizer and inference: every replica behind the service's address. */
  replicas?: ReplicaHealthView[];
}

/** One inference replica's state of a version, as the reconcile loop last saw it. */
export interface ReplicaVersionState {
  address: string;
  /** The replica answers its health check with SERVING (only those get requests). */
  serving: boolean;
  state: VersionState;
  /** Why it failed there, in the replica's words. */
  detail?: string;
}

export interface ModelSummary {
  model: string;
  versions: number;
  available: number;
  /** Over the last hour; null when there was no traffic. */
  requestsPerSecond: number;
  errorRate: number | null;
  p99Ms: number | null;
}

export interface OverviewView {
  services: ServiceHealth[];
  models: ModelSummary[];
  from: string;
  to: string;
}

/** One held-out split's metrics. Every field but `split` is optional: an uploaded version records what it has. */
export interface SplitEvaluationView {
  /** e.g. "test" (whole messages) or "test_short" (subjects and sentences of the same messages). */
  split: string;
  description?: string;
  examples?: number;
  accuracy?: number;
  /** Precision, recall and F1 of the positive label (the last class label, e.g. spam). */
  precision?: number;
  recall?: number;
  f1?: number;
  /** label -> recall: for spam, ham's recall is the share of good mail that gets through. */
  recallByLabel?: Record<string, number>;
  /** Expected calibration error (10 bins): how far the scores are from the accuracy they claim. */
  ece?: number;
}

/** servable.json's `evaluation`, per split. A flat record (one split, no `splits`) reads as split "test". */
export interface EvaluationView {
  splits: SplitEvaluationView[];
  /** The temperature the output was scaled by to calibrate the scores, when the trainer did. */
  temperature?: number;
}

export interface VersionView {
  model: string;
  version: number;
  state: VersionState;
  stateDetail: string | null;
  /** Version labels (stable, canary, …) that point here. */
  labels: string[];
  pinned: boolean;
  framework: string;
  artifactPath: string;
  artifactSha256: string;
  tokenizerHash: string;
  signature: Record<string, unknown>;
  classLabels: string[];
  maxLength: number;
  /** From servable.json's `evaluation`; null when it has none. */
  evaluation: EvaluationView | null;
  source: 'import' | 'upload';
  createdAt: string;
  /** Each inference replica's state of this version (empty before the gateway's first reconcile pass). */
  replicas?: ReplicaVersionState[];
}

export interface ModelView {
  name: string;
  /** label → version */
  labels: Record<string, number>;
  versions: VersionView[];
}

const version = z.int().min(1);
const percent = z.number().min(0).max(100);
const share = z.number().min(0).max(1);

/** Requests whose header has this value go to this version. */
export const cohortRuleSchema = z.object({
  header: z.string().regex(/^[A-Za-z0-9-]+$/, `${PATH} must be a header name (letters, digits and -)`).max(100),
  value: z.string().min(1).max(200),
  version,
});
export type CohortRule = z.infer<typeof cohortRuleSchema>;

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
  .refine((r) => !(r.canaryWeight > 0 && r.canary === undefined), { path: ['canaryWeight'], message: 'canaryWeight needs a canary version' });
export type RolloutInput = z.input<typeof rolloutInputSchema>;

export interface RolloutView {
  model: string;
  /** null: the version the `stable` label points at. */
  stableVersion: number | null;
  canary?: number;
  canaryWeight: number;
  cohortRules: CohortRule[];
  sticky: boolean;
  shadow?: { version: number; share: number };
  updatedAt: string;
}

export const CANARY_RUN_STATES = ['RUNNING', 'PROMOTED', 'ROLLED_BACK', 'ABORTED', 'FAILED'] as const;
export type CanaryRunState = (typeof CANARY_RUN_STATES)[number];

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
export type CanaryGates = z.infer<typeof canaryGatesSchema>;

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
export type CanaryRunInput = z.input<typeof canaryRunInputSchema>;

/** One analysis at the end of a step: canary against stable over the same window. */
export interface CanaryCheck {
  at: string;
  step: number;
  weight: number;
  /** Canary requests in the window. */
  requests: number;
  errorRate: number | null;
  p99Ms: number | null;
  stableRequests: number;
  stableErrorRate: number | null;
  stableP99Ms: number | null;
  /** Mirrored requests compared with stable, and the share that agreed. */
  comparisons: number;
  agreement: number | null;
  /** The two-proportion z statistic of canary vs stable error rate (positive: canary worse). */
  errorZ: number | null;
  /** 95% Wilson upper bound of the agreement. */
  agreementUpper: number | null;
  passed: boolean;
  /** 'passed', 'extended', or which gate failed and by how much. */
  reason: string;
  /** The step was too thin and got extended rather than judged. */
  extended?: boolean;
}

export interface CanaryRunView {
  id: number;
  model: string;
  stable: number;
  canary: number;
  state: CanaryRunState;
  stepIndex: number;
  weight: number;
  steps: number[];
  stepSeconds: number;
  gates: CanaryGates;
  sticky: boolean;
  mirrorShare: number;
  maxExtensions: number;
  /** When the current step ends (RUNNING only). */
  stepEndsAt?: string;
  startedAt: string;
  startedBy: string;
  finishedAt?: string;
  /** Why the run ended (the failing gate, "aborted by ..."). */
  reason?: string;
  checks: CanaryCheck[];
}

export interface MetricPoint {
  t: string;
  requests: number;
  requestsPerSecond: number;
  errors: Record<string, number>;
  errorRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  meanTokenizeMs: number | null;
  meanInferenceMs: number | null;
  meanBatchSize: number | null;
  cacheHitRate: number | null;
  shadowRequests: number;
  shadowAgreement: number | null;
  shadowMeanLatencyMs: number | null;
}

export interface MetricSeries {
  model: string;
  version: number;
  points: MetricPoint[];
}

export interface MetricsView {
  from: string;
  to: string;
  step: number;
  series: MetricSeries[];
}

/** Query parameters of GET /admin/api/metrics. */
export interface MetricsParams {
  model?: string;
  version?: number;
  /** ISO 8601 or epoch ms. */
  from?: string | number;
  to?: string | number;
  /** Seconds, a multiple of 10. */
  step?: number;
}

export interface AuditEventView {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

export interface AuditPage {
  events: AuditEventView[];
  nextBeforeId?: number;
}

/** Query parameters of GET /admin/api/audit. */
export interface AuditParams {
  actor?: string;
  action?: string;
  target?: string;
  from?: string;
  to?: string;
  limit?: number;
  beforeId?: number;
}

const body = { error: (iss: { code: string }) => (iss.code === 'invalid_type' ? 'the body must be a JSON object' : undefined) };
const versionOrNull = () => `${PATH} must be a version number or null`;

/** PUT /admin/api/models/:model/labels: move or add (a version) or remove (null) labels, all at once. */
export const labelsInputSchema = z.object(
  {
    labels: z
      .record(z.string(), z.int({ error: versionOrNull }).min(1, { error: versionOrNull }).nullable(), { error: `${PATH} must be an object of label: version or null` })
      .meta({ example: { stable: 2, canary: null } }),
  },
  body,
);
export type LabelsInput = z.infer<typeof labelsInputSchema>;

/** PUT /admin/api/models/:model/versions/:version/pin */
export const pinInputSchema = z.object({ pinned: z.boolean({ error: '"pinned" must be true or false' }) }, body);
export type PinInput = z.infer<typeof pinInputSchema>;

const keyName = 'a key needs a name of 1 to 128 characters';

/** POST /admin/api/api-keys */
export const apiKeyInputSchema = z.object(
  {
    name: z.string({ error: '"name" must be a string' }).min(1, keyName).max(128, keyName),
    role: z.enum(ROLES, { error: `role must be one of ${ROLES.join(', ')}` }),
  },
  body,
);
export type ApiKeyInput = z.infer<typeof apiKeyInputSchema>;

export interface CreatedApiKey {
  /** The plaintext key: the API shows it this once. */
  key: string;
  apiKey: ApiKeyView;
}


export const AUDIT_ACTIONS = [
  'registry.import',
  'version.register',
  'label.set',
  'version.pin',
  'rollout.set',
  'rollout.clear',
  'rollout.promote',
  'rollout.rollback',
  'api_key.create',
  'api_key.revoke',
  'canary.start',
  'canary.step',
  'canary.promote',
  'canary.rollback',
  'canary.abort',
  'canary.fail',
] as const;

const RANK: Record<Role, number> = { client: 0, operator: 1, admin: 2 };

/** Roles rank admin > operator > client, as the gateway checks them. */
export function hasRole(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

/**
 * GET /admin/api/catalog, for any key (client and up): what a caller may send requests
 * to, without the registry's artefact paths and evaluation (GET /models, operator).
 */
export interface CatalogVersionView {
  version: number;
  state: VersionState;
  /** Version labels (stable, canary, …) that point here. */
  labels: string[];
  /** Kept loaded by an operator's pin. */
  pinned: boolean;
  tokenizerHash: string;
  maxLength: number;
  classLabels: string[];
}

export interface CatalogModelView {
  name: string;
  versions: CatalogVersionView[];
}
