import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ErrorCode, ServableError } from '@servable/contracts';
import type { ReplicaVersionState } from '@servable/contracts/admin-api';
import { int64ToNumber, type servableInferenceV1, type servableTokenizerV1 } from '@servable/contracts/grpc';
import { ControlPlane, computeDesiredState, planReconcile, type DesiredState, type VersionState } from '@servable/persistence';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { translateGrpcError } from '../downstream/grpc-downstream';
import { DownstreamService, versionKey } from '../downstream/downstream.service';
import type { Replica } from '../downstream/replica-set';
import { aggregateVersionState } from './version-aggregate';

/** States in which a replica holds (or is getting) a version: anything else needs a LoadModel. */
const HELD = new Set(['START', 'LOADING', 'AVAILABLE', 'UNLOADING']);
/** A version that failed to load on a replica is tried there again after this long, not on every pass. */
const FAILED_RETRY_MS = 60_000;
const CALL_TIMEOUT_MS = 10_000;
/** Listing what a replica holds: short, so one hung replica does not hold up the others' pass. */
const LIST_TIMEOUT_MS = 2_000;
/** While a version is loading or unloading, its state is read again this soon, so AVAILABLE shows within a second. */
const TRANSITION_POLL_MS = 500;
const TRANSIENT = new Set(['START', 'LOADING', 'UNLOADING']);

export interface ReconcileReport {
  loaded: string[];
  unloaded: string[];
  tokenizersLoaded: string[];
  errors: string[];
  /** Some version is still loading or unloading on some replica. */
  transitioning: boolean;
  /** The TF.js backend inference reported with its statuses. */
  backend?: string;
}

/**
 * Makes every data-plane replica hold what the control plane names: every version named by
 * a label, a rollout or a pin is loaded on each inference replica, with its tokenizer on
 * each tokenizer replica, and a version named by nothing is unloaded. The gateway resolves
 * every address behind TOKENIZER_URL / INFERENCE_URL and reconciles each replica on its
 * own (a round-robin channel would reach one replica per call). Runs on every config
 * change, every RECONCILE_INTERVAL_MS and whenever a replica appears or comes back, so a
 * new or restarted replica converges with no human action. Load and unload are idempotent,
 * so every gateway replica may run it. The registry gets one state per version, aggregated
 * over the replicas (see aggregateVersionState); the per-replica states are kept here for
 * the status APIs.
 */
@Injectable()
export class Reconciler implements OnApplicationShutdown {
  private readonly logger = new Logger('Reconciler');
  private timer?: NodeJS.Timeout;
  private followUp?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  /** `address model/version` → when it was first seen FAILED there. */
  private readonly failedAt = new Map<string, number>();
  /** The last pass's report, for tests and the admin overview. */
  last?: ReconcileReport & { at: string };

  constructor(
    private readonly controlPlane: ControlPlane,
    private readonly downstream: DownstreamService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  start(): void {
    this.downstream.whenReplicasChange(() => void this.kick());
    void this.kick();
    this.timer = setInterval(() => void this.kick(), this.config.RECONCILE_INTERVAL_MS);
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
    // Tokenizers first: a version is no use before the tokenizer pinned to it.
    await Promise.all(this.downstream.tokenizer.replicas().map((r) => this.reconcileTokenizer(r, desired, report)));

    // What each inference replica holds, for every registered model (a version nobody names must be seen to be unloaded).
    const registered: Array<{ model: string; version: number; state: VersionState; detail: string | null }> = await cp.db.dataSource.query(
      `SELECT m.name AS model, v.version, v.state, v.state_detail AS detail FROM model_version v JOIN model m ON m.id = v.model_id`,
    );
    const models = [...new Set(registered.map((r) => r.model))];
    const replicas = this.downstream.inference.replicas();
    const observed = await Promise.all(replicas.map((r) => this.reconcileInference(r, desired, models, report)));
    const answered = replicas.flatMap((r, i) => (observed[i] ? [{ replica: r, statuses: observed[i]! }] : []));
    if (answered.length === 0) {
      // No inference replica answers: keep the registry's states as they are and try again on the next pass.
      if (replicas.length) report.errors.push(`inference: no replica answered at ${this.config.INFERENCE_URL}`);
      return report;
    }

    const wanted = new Set(desired.versions.map((v) => versionKey(v.model, v.version)));
    for (const { model, version, state: previous, detail: previousDetail } of registered) {
      const key = versionKey(model, version);
      const states: ReplicaVersionState[] = answered.map(({ replica, statuses }) => {
        const s = statuses.get(key);
        // A replica that does not report a version it should hold is about to get it (START), else it holds nothing (END).
        const state = (s?.state as VersionState | undefined) ?? (wanted.has(key) ? 'START' : 'END');
        if (TRANSIENT.has(state)) report.transitioning = true;
        return { address: replica.address, serving: replica.serving, state, ...(s?.status?.errorMessage ? { detail: s.status.errorMessage } : {}) };
      });
      const { state, detail } = aggregateVersionState(states, previous);
      if (state === previous && detail === previousDetail) continue;
      await cp.registry.setState(model, version, state, detail).catch((err: Error) => {
        if (!(err instanceof ServableError && err.code === ErrorCode.NOT_FOUND)) report.errors.push(`state of ${key}: ${err.message}`);
      });
    }
    return report;
  }

  private async reconcileTokenizer(replica: Replica, desired: DesiredState, report: ReconcileReport): Promise<void> {
    const at = replica.address;
    try {
      const listed = await replica.api.call<servableTokenizerV1.ListTokenizersResponse>('listTokenizers', {}, { deadline: Date.now() + LIST_TIMEOUT_MS });
      const holds = new Map(listed.tokenizers.map((t) => [t.tokenizerHash, { state: 'AVAILABLE' }]));
      for (const t of desired.tokenizers.filter((t) => !holds.has(t.hash))) {
        try {
          await replica.api.call('loadTokenizer', { tokenizerHash: t.hash }, { deadline: Date.now() + CALL_TIMEOUT_MS });
          holds.set(t.hash, { state: 'AVAILABLE' });
          report.tokenizersLoaded.push(`${t.hash.slice(0, 12)}@${at}`);
        } catch (err) {
          report.errors.push(`tokenizer ${t.hash.slice(0, 12)} on ${at}: ${translateGrpcError(err, 'tokenizer', at).message}`);
        }
      }
      replica.holds = holds;
    } catch (err) {
      report.errors.push(`tokenizer ${at}: ${translateGrpcError(err, 'tokenizer', at).message}`);
    }
  }

  /** Loads and unloads on one inference replica; what it then holds, or undefined when it did not answer. */
  private async reconcileInference(
    replica: Replica,
    desired: DesiredState,
    models: string[],
    report: ReconcileReport,
  ): Promise<Map<string, servableInferenceV1.ModelVersionStatus> | undefined> {
    const at = replica.address;
    const statuses: servableInferenceV1.ModelVersionStatus[] = [];
    try {
      for (const model of models) {
        try {
          const reply = await replica.api.call<servableInferenceV1.GetModelStatusResponse>('getModelStatus', { modelSpec: { name: model } }, { deadline: Date.now() + LIST_TIMEOUT_MS });
          statuses.push(...reply.modelVersionStatus);
        } catch (err) {
          if (translateGrpcError(err, 'inference', at).code !== ErrorCode.NOT_FOUND) throw err;
        }
      }
    } catch (err) {
      report.errors.push(`inference ${at}: ${translateGrpcError(err, 'inference', at).message}`);
      return undefined;
    }
    report.backend ??= statuses.map((s) => s.backend).find(Boolean);
    const after = new Map(statuses.map((s) => [versionKey(s.name, s.version), s]));
    const loaded = statuses.filter((s) => HELD.has(s.state) || this.recentlyFailed(at, s)).map((s) => ({ model: s.name, version: int64ToNumber(s.version, `${s.name} version`) }));
    const plan = planReconcile(desired, loaded);
    const change = async (verb: 'load' | 'unload', v: { model: string; version: number }) => {
      const key = versionKey(v.model, v.version);
      try {
        const method = verb === 'load' ? 'loadModel' : 'unloadModel';
        const reply = await replica.api.call<servableInferenceV1.LoadModelResponse>(method, { modelSpec: { name: v.model, version: v.version } }, { deadline: Date.now() + CALL_TIMEOUT_MS });
        if (reply.status) after.set(key, reply.status);
        (verb === 'load' ? report.loaded : report.unloaded).push(`${key}@${at}`);
      } catch (err) {
        const message = translateGrpcError(err, 'inference', at).message;
        report.errors.push(`${verb} ${key} on ${at}: ${message}`);
        if (verb === 'load') {
          after.set(key, { name: v.model, version: String(v.version), state: 'FAILED', status: { errorCode: 'UNKNOWN', errorMessage: message }, backend: '', tokenizerHash: '' });
        }
      }
    };
    for (const v of plan.load) await change('load', v);
    for (const v of plan.unload) await change('unload', v);
    for (const [key, s] of after) {
      // When a version was first seen FAILED here: recentlyFailed() holds off its retry for a minute from then.
      const failedKey = `${at} ${key}`;
      if (s.state !== 'FAILED') this.failedAt.delete(failedKey);
      else if (!this.failedAt.has(failedKey)) this.failedAt.set(failedKey, Date.now());
    }
    replica.holds = new Map([...after].map(([key, s]) => [key, { state: s.state, ...(s.status?.errorMessage ? { detail: s.status.errorMessage } : {}) }]));
    return after;
  }

  /** A FAILED version counts as held (not retried) on a replica for a minute after the failure was first seen there. */
  private recentlyFailed(address: string, s: servableInferenceV1.ModelVersionStatus): boolean {
    if (s.state !== 'FAILED') return false;
    const key = `${address} ${versionKey(s.name, s.version)}`;
    const at = this.failedAt.get(key);
    // Not seen before: this pass records it and the minute starts now.
    if (at === undefined) return true;
    if (Date.now() - at < FAILED_RETRY_MS) return true;
    this.failedAt.delete(key);
    return false;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.followUp) clearTimeout(this.followUp);
    await this.running?.catch(() => undefined);
  }
}
