import type { AuditQuery } from './types';

/** Every react-query key in one place, so invalidation after a mutation cannot miss one. */
export const queryKeys = {
  session: (key: string | null) => ['session', key] as const,
  overview: ['overview'] as const,
  models: ['models'] as const,
  model: (model: string) => ['models', model] as const,
  rollout: (model: string) => ['rollout', model] as const,
  canaryRuns: (model: string) => ['canary-runs', model] as const,
  metrics: (model: string, range: string) => ['metrics', model, range] as const,
  audit: (q: AuditQuery) => ['audit', q] as const,
  auditAll: ['audit'] as const,
  apiKeys: ['api-keys'] as const,
  catalog: ['catalog'] as const,
  playground: (model: string, version: number, texts: string[]) => ['playground', model, version, texts] as const,
};
