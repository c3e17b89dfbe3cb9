// The admin API's shapes live in @servable/contracts (one definition for the gateway and
// the console); the console's client names its query parameters after its own calls.
export * from '@servable/contracts/admin-api';
export type { AuditParams as AuditQuery, MetricsParams as MetricsQuery } from '@servable/contracts/admin-api';
