import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ErrorCode, ServableError } from '@servable/contracts';
import type { servableInferenceV1, servableTokenizerV1 } from '@servable/contracts/grpc';
import { ControlPlane, VERSION_STATES, computeDesiredState, planReconcile, type LoadedVersion, type VersionState } from '@servable/persistence';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { DownstreamService } from '../downstream/downstream.service';

/** States in which inference holds (or is getting) a version: anything else needs a LoadModel. */
const HELD = new Set(['START', 'LOADING', 'AVAILABLE', 'UNLOADING']);
/** A version that failed to load is tried again after this long, not on every pass. */
const FAILED_RETRY_MS = 60_000;
const CALL_TIMEOUT_MS = 10_000;
/** While a version is loading or unloading, its state is read again this soon, so AVAILABLE shows within a second. */
const TRANSITION_POLL_MS = 500;
const TRANSIENT = new Set(['START', 'LOADING', 'UNLOADING']);

const keyOf = (s: { name: string; version: unknown }) => `${s.name}/${Number(s.version)}`;

export interface ReconcileReport {
  loaded: string[];
  unloaded: string[];
  tokenizersLoaded: string[];
  errors: string[];
  /** Some version is still loading or unloading. */
  transitioning: boolean;
  /** The TF.js backend inference reported with its statuses. */
  backend?: string;
}

/**
 * Makes the data plane hold what the control plane names: every version named by a
 * label, a rollout or a pin is loaded in inference with its tokenizer in the tokenizer
 * service, and a version named by nothing is unloaded. Runs on every config change and
 * every RECONCILE_INTERVAL_MS, so a restarted inference process gets its versions back
 * with no human action. Load and unload are idempotent, so every replica may run it.
 * It also writes the states inference reports into the registry, which is what gates
 * canaries and labels on AVAILABLE.
 */
@Injectable()
export class Reconciler implements OnApplicationShutdown {
  private readonly logger = new Logger('Reconciler');
  private timer?: NodeJS.Timeout;
  private followUp?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private readonly failedAt = new Map<string, number>();
  /** The last pass's report, for tests and the admin overview. */
  last?: ReconcileReport & { at: string };

  constructor(
    private readonly controlPlane: ControlPlane,
    private readonly downstream: DownstreamService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  start(): void {
    this.kick();
    this.timer = setInterval(() => this.kick(), this.config.RECONCILE_INTERVAL_MS);
    this.timer.unref();
  }

  /** Runs a pass now, or right after the one in progress (never two at once). */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          const report = await this.pass();
          this.last = { ...report, at: new Date().toISOString() };
          if (report.loaded.length || report.unloaded.length || report.tokenizersLoaded.length) {
            this.logger.log(`reconciled: load ${report.loaded.join(', ') || '-'}; unload ${report.unloaded.join(', ') || '-'}; tokenizers ${report.tokenizersLoaded.join(', ') || '-'}`);
          }
          for (const e of report.errors) this.logger.warn(e);
          if (report.transitioning && !this.followUp && !this.stopped) {
            this.followUp = setTimeout(() => {
              this.followUp = undefined;
              void this.kick();
            }, TRANSITION_POLL_MS);
            this.followUp.unref();
          }
        } catch (err) {
          this.logger.warn(`reconcile pass failed: ${(err as Error).message}`);
        }
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  async pass(): Promise<ReconcileReport> {
    const report: ReconcileReport = { loaded: [], unloaded: [], tokenizersLoaded: [], errors: [], transitioning: false };
    const cp = this.controlPlane;
    const desired = await computeDesiredState(cp.db.dataSource, cp.repositoryRoot);
    const deadline = () => Date.now() + CALL_TIMEOUT_MS;

    // Tokenizers first: a version is no use before the tokenizer pinned to it.
    try {
      const listed = await this.downstream.tokenizer.call<servableTokenizerV1.ListTokenizersResponse>('listTokenizers', {}, { deadline: deadline() });
      const have = new Set(listed.tokenizers.map((t) => t.tokenizerHash));
      for (const t of desired.tokenizers.filter((t) => !have.has(t.hash))) {
        try {
          await this.downstream.tokenizer.call('loadTokenizer', { tokenizerHash: t.hash }, { deadline: deadline() });
          report.tokenizersLoaded.push(t.hash.slice(0, 12));
        } catch (err) {
          report.errors.push(`tokenizer ${t.hash.slice(0, 12)}: ${(err as Error).message}`);
        }
      }
    } catch (err) {
      report.errors.push(`tokenizer service: ${(err as Error).message}`);
    }

    // What inference holds, for every registered model (a version nobody names must be seen to be unloaded).
    const models: string[] = (await cp.db.dataSource.query(`SELECT name FROM model ORDER BY name`)).map((r: { name: string }) => r.name);
    const statuses: servableInferenceV1.ModelVersionStatus[] = [];
    try {
      for (const model of models) {
        try {
          statuses.push(...(await this.downstream.modelStatus(model, deadline())));
        } catch (err) {
          if (!(err instanceof ServableError && err.code === ErrorCode.NOT_FOUND)) throw err;
        }
      }
    } catch (err) {
      // Inference is down: keep the registry's states as they are and try again on the next pass.
      report.errors.push(`inference service: ${(err as Error).message}`);
      return report;
    }

    report.backend = statuses.map((s) => s.backend).find(Boolean);
    const loaded: LoadedVersion[] = statuses.filter((s) => HELD.has(s.state) || this.recentlyFailed(s)).map((s) => ({ model: s.name, version: Number(s.version) }));
    const plan = planReconcile(desired, loaded);
    const after = new Map(statuses.map((s) => [keyOf(s), s]));
    for (const v of plan.load) {
      const key = `${v.model}/${v.version}`;
      try {
        const reply = await this.downstream.inference.call<servableInferenceV1.LoadModelResponse>('loadModel', { modelSpec: { name: v.model, version: v.version } }, { deadline: deadline() });
        if (reply.status) after.set(key, reply.status);
        report.loaded.push(key);
      } catch (err) {
        report.errors.push(`load ${key}: ${(err as Error).message}`);
        await cp.registry.setState(v.model, v.version, 'FAILED', (err as Error).message).catch(() => undefined);
      }
    }
    for (const v of plan.unload) {
      const key = `${v.model}/${v.version}`;
      try {
        const reply = await this.downstream.inference.call<servableInferenceV1.UnloadModelResponse>('unloadModel', { modelSpec: { name: v.model, version: v.version } }, { deadline: deadline() });
        if (reply.status) after.set(key, reply.status);
        report.unloaded.push(key);
      } catch (err) {
        report.errors.push(`unload ${key}: ${(err as Error).message}`);
      }
    }

    for (const s of after.values()) {
      const state = s.state as VersionState;
      if (!VERSION_STATES.includes(state)) continue;
      if (TRANSIENT.has(state)) report.transitioning = true;
      // When a version was first seen FAILED: recentlyFailed() holds off its retry for a minute from then.
      if (state !== 'FAILED') this.failedAt.delete(keyOf(s));
      else if (!this.failedAt.has(keyOf(s))) this.failedAt.set(keyOf(s), Date.now());
      const detail = s.status?.errorMessage || null;
      await cp.registry.setState(s.name, Number(s.version), state, detail).catch((err: Error) => {
        if (!(err instanceof ServableError && err.code === ErrorCode.NOT_FOUND)) report.errors.push(`state of ${s.name}/${s.version}: ${err.message}`);
      });
    }
    return report;
  }

  /** A FAILED version counts as held (not retried) for a minute after the failure was first seen. */
  private recentlyFailed(s: servableInferenceV1.ModelVersionStatus): boolean {
    if (s.state !== 'FAILED') return false;
    const at = this.failedAt.get(keyOf(s));
    // Not seen before: this pass records it (below, with the other states) and the minute starts now.
    if (at === undefined) return true;
    if (Date.now() - at < FAILED_RETRY_MS) return true;
    this.failedAt.delete(keyOf(s));
    return false;
  }


  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.followUp) clearTimeout(this.followUp);
    await this.running?.catch(() => undefined);
  }
}
