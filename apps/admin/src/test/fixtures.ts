import type { ApiKeyView, AuditEventView, CanaryRunView, MetricPoint, MetricSeries, ModelView, Role, RolloutView, VersionView } from '../api/types';

const HASH = 'f1ad517b8eb1b6d610ebf905ba0d7c847e9bb1d258f7aa267ba0be6c6c0f2b60';

export function version(v: number, patch: Partial<VersionView> = {}): VersionView {
  return {
    model: 'spam',
    version: v,
    state: 'AVAILABLE',
    stateDetail: null,
    labels: [],
    pinned: false,
    framework: 'tfjs-layers',
    artifactPath: `spam/${v}`,
    artifactSha256: 'a'.repeat(64),
    tokenizerHash: HASH,
    signature: {},
    classLabels: ['ham', 'spam'],
    maxLength: 256,
    // As the admin API maps models/spam/<v>/servable.json's "evaluation": one entry per held-out split.
    evaluation: {
      splits: [
        { split: 'test', description: 'whole held-out messages', examples: 618, accuracy: 0.9871 - v / 1000, precision: 0.9686, recall: 0.9487, f1: 0.9785 - v / 1000, recallByLabel: { ham: 0.9929, spam: 0.9487 }, ece: 0.0123 },
        { split: 'test_short', examples: 2058, accuracy: 0.9131 - v / 1000, f1: 0.8612, recallByLabel: { ham: 0.9512, spam: 0.8241 }, ece: 0.0215 },
      ],
      temperature: 2.05,
    },
    source: 'import',
    createdAt: '2026-01-01T10:00:00.000Z',
    ...patch,
  };
}

export function spamModel(): ModelView {
  return {
    name: 'spam',
    labels: { stable: 1 },
    versions: [
      version(1, { labels: ['stable'] }),
      version(2, { pinned: true }),
      version(3, {
        state: 'LOADING',
        pinned: true,
        source: 'upload',
        replicas: [
          { address: '10.0.0.7:50052', serving: true, state: 'AVAILABLE' },
          { address: '10.0.0.8:50052', serving: true, state: 'FAILED', detail: 'out of memory' },
        ],
      }),
    ],
  };
}

export function spamRollout(): RolloutView {
  return { model: 'spam', stableVersion: null, canary: 2, canaryWeight: 10, cohortRules: [], sticky: true, updatedAt: '2026-01-01T11:00:00.000Z' };
}

/** A run of spam v2 against stable v1, at its first step. */
export function runningCanaryRun(patch: Partial<CanaryRunView> = {}): CanaryRunView {
  return {
    id: 7,
    model: 'spam',
    stable: 1,
    canary: 2,
    state: 'RUNNING',
    stepIndex: 0,
    weight: 10,
    steps: [10, 50, 100],
    stepSeconds: 60,
    gates: { maxErrorRate: 0.01, maxP99Ratio: 1.5, minAgreement: 0.95, minRequests: 100 },
    sticky: true,
    mirrorShare: 50,
    maxExtensions: 3,
    stepEndsAt: '2026-01-01T12:01:00.000Z',
    startedAt: '2026-01-01T12:00:00.000Z',
    startedBy: 'ops',
    checks: [],
    ...patch,
  };
}

export function apiKey(id: number, name: string, role: Role): ApiKeyView {
  return { id, name, prefix: `svb_${name.slice(0, 8)}`, role, createdBy: 'bootstrap', createdAt: '2026-01-01T09:00:00.000Z', revokedAt: null };
}

/** `count` events, newest last (ids ascending), alternating actors and actions. */
export function auditEvents(count: number): AuditEventView[] {
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    at: new Date(Date.UTC(2026, 0, 1, 12, i)).toISOString(),
    actor: i % 2 === 0 ? 'admin-key' : 'ops-key',
    action: i % 3 === 0 ? 'rollout.set' : 'label.set',
    target: i % 4 === 0 ? 'model:other' : 'model:spam',
    before: { canaryWeight: i },
    after: { canaryWeight: i + 1 },
  }));
}

function point(t: number, v: number, i: number): MetricPoint {
  return {
    t: new Date(t).toISOString(),
    requests: 100,
    requestsPerSecond: 3 + v + i / 10,
    errors: {},
    errorRate: 0.01 * v,
    p50Ms: 5 * v,
    p95Ms: 9 * v,
    p99Ms: 12 * v + i,
    meanTokenizeMs: 1,
    meanInferenceMs: 3,
    meanBatchSize: 4 + v,
    cacheHitRate: 0.5,
    shadowRequests: v === 2 ? 10 : 0,
    shadowAgreement: v === 2 ? 0.97 : null,
    shadowMeanLatencyMs: v === 2 ? 6 : null,
  };
}

export function metricSeries(versions: number[], points = 4): MetricSeries[] {
  const start = Date.UTC(2026, 0, 1, 12, 0);
  return versions.map((v) => ({ model: 'spam', version: v, points: Array.from({ length: points }, (_, i) => point(start + i * 30_000, v, i)) }));
}
