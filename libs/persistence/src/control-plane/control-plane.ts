import { resolve } from 'node:path';
import { ModelRepository } from '@servable/model-repository';
import { z } from 'zod';
import { ApiKeyService } from '../auth/api-key.service';
import { AuditService } from '../audit/audit.service';
import { CanaryService } from '../canary/canary.service';
import { ChangeNotifier } from '../changes/change-notifier';
import { Database, databaseOptionsFromEnv, type DatabaseOptions } from '../database/database';
import { MetricsStore } from '../metrics/metrics-store';
import type { ImportReport } from '../registry/repository-import';
import { RegistryService } from '../registry/registry.service';
import { RolloutService } from '../rollout/rollout.service';

/**
 * The control plane's environment; merge it into the gateway's own schema
 * (`gatewaySchema.extend(controlPlaneEnvShape)`) so it is validated once at boot.
 */
export const controlPlaneEnvShape = {
  // Set: PostgreSQL (needed for several gateway replicas). Unset: embedded PGlite, one process only.
  DATABASE_URL: z.string().url().optional(),
  // PGlite keeps its data in <dir>/pgdata; only used without DATABASE_URL.
  SERVABLE_DATA_DIR: z.string().default('.servable'),
  MODEL_REPOSITORY: z.string().default('./models'),
  // Older metric buckets are deleted: longer keeps history, at ~8,640 rows per version per day.
  METRICS_RETENTION_DAYS: z.coerce.number().positive().default(7),
  // Shorter shows traffic sooner on the console; longer writes fewer, larger batches.
  METRICS_FLUSH_INTERVAL_MS: z.coerce.number().int().min(100).default(5000),
  // Revision polling behind LISTEN/NOTIFY; must stay under 1000 to keep "in effect within 1 s" without LISTEN.
  CONFIG_POLL_INTERVAL_MS: z.coerce.number().int().min(50).max(1000).default(500),
  // Registered as admin at start; unset: the first start creates an admin key and prints it once.
  SERVABLE_ADMIN_KEY: z.string().min(16).optional(),
  // off = dev mode: no API keys checked. Say so in the start-up log.
  SERVABLE_AUTH: z.enum(['on', 'off']).default('on'),
};

export const controlPlaneEnvSchema = z.object(controlPlaneEnvShape);
export type ControlPlaneEnv = z.infer<typeof controlPlaneEnvSchema>;

export interface ControlPlaneOptions {
  database: DatabaseOptions;
  repositoryRoot: string;
  metricsRetentionDays?: number;
  metricsFlushIntervalMs?: number;
  configPollIntervalMs?: number;
  onError?: (err: Error) => void;
}

export function controlPlaneOptionsFromEnv(env: ControlPlaneEnv): ControlPlaneOptions {
  return {
    database: databaseOptionsFromEnv({ DATABASE_URL: env.DATABASE_URL, SERVABLE_DATA_DIR: env.SERVABLE_DATA_DIR }),
    repositoryRoot: resolve(env.MODEL_REPOSITORY),
    metricsRetentionDays: env.METRICS_RETENTION_DAYS,
    metricsFlushIntervalMs: env.METRICS_FLUSH_INTERVAL_MS,
    configPollIntervalMs: env.CONFIG_POLL_INTERVAL_MS,
  };
}

/**
 * Every control-plane service over one database, built in the order they depend on
 * each other. The gateway makes one at boot and provides its members to Nest.
 */
export class ControlPlane {
  private constructor(
    readonly db: Database,
    readonly audit: AuditService,
    readonly registry: RegistryService,
    readonly rollouts: RolloutService,
    readonly apiKeys: ApiKeyService,
    readonly metrics: MetricsStore,
    readonly changes: ChangeNotifier,
    readonly repositoryRoot: string,
    readonly canaries: CanaryService,
  ) {}

  /** Opens the database and runs pending migrations. */
  static async open(options: ControlPlaneOptions): Promise<ControlPlane> {
    const db = await Database.open({ ...options.database, migrate: true });
    const ds = db.dataSource;
    const audit = new AuditService(ds);
    const metrics = new MetricsStore(ds, {
      retentionDays: options.metricsRetentionDays,
      flushIntervalMs: options.metricsFlushIntervalMs,
      onError: options.onError,
    });
    return new ControlPlane(
      db,
      audit,
      new RegistryService(ds, audit, new ModelRepository(options.repositoryRoot)),
      new RolloutService(ds, audit),
      new ApiKeyService(ds, audit),
      metrics,
      new ChangeNotifier(db, { pollIntervalMs: options.configPollIntervalMs, onError: options.onError }),
      options.repositoryRoot,
      new CanaryService(ds, audit, metrics),
    );
  }

  /** Start-up work: import the model repository, make sure an admin key exists, start the metric flusher. */
  async startUp(adminKey?: string): Promise<{ imported: ImportReport; createdAdminKey?: string }> {
    // Two replicas starting together would both insert the same versions and admin key.
    const { imported, createdKey } = await this.db.withExclusiveLock('start-up', async () => {
      const report = await this.registry.importRepository();
      return { imported: report, ...(await this.apiKeys.bootstrap(adminKey)) };
    });
    this.metrics.start();
    return { imported, createdAdminKey: createdKey };
  }

  /** Flushes metrics, stops listening and closes the database. */
  async close(): Promise<void> {
    await this.changes.stop();
    await this.metrics.stop().catch(() => undefined);
    await this.db.close();
  }
}
