import { Inject, Injectable, Logger } from '@nestjs/common';
import { ErrorCode, ServableError } from '@servable/contracts';
import { servableInferenceV1 as v1 } from '@servable/contracts/grpc';
import { DynamicBatcher, type BatchExecutor } from '../batching/dynamic-batcher';
import { INFERENCE_CONFIG, type InferenceConfig } from '../config/inference.config';
import { selectVersions } from '../config/version-policy';
import { InferenceMetrics } from '../metrics/inference.metrics';
import { WorkerPool } from '../workers/worker-pool';
import { fixedSequenceLength } from '@servable/model-repository';
import { SAVED_MODEL_NEEDS_NATIVE, batchingOf, signatureOf, warmupPlanOf, type ModelSource } from './manifest';
import { traceBatches } from './batch-tracing';
import { MODEL_SOURCE } from './model-source';
import { ModelVersion, versionKey } from './model-version';

/** How a version gets loaded in Servable (the gateway's reconciler loads what is pinned, labelled or routed), not TF Serving's LoadModel. */
const LOAD_HINT = 'pin it (servable pin <model> <version>, or POST /admin/api/models/<model>/versions/<version>/pin) to load it';

const { ModelState } = v1;

/**
 * Loads, serves and unloads model versions. Loads run one at a time in the
 * background (worker by worker), never on the request path: a version only
 * takes traffic once AVAILABLE, and its neighbours keep serving meanwhile.
 */
@Injectable()
export class ModelManager {
  private readonly logger = new Logger('ModelManager');
  private readonly versions = new Map<string, ModelVersion>();
  private loadChain: Promise<unknown> = Promise.resolve();
  /**
   * Keys the start-up policy selected: readiness waits for all of them. Undefined until the policy
   * has listed the repository: a replica that has not yet chosen its versions is not ready (an
   * empty list would read as "everything loaded" and let a Service route to it).
   */
  private policyKeys?: string[];
  /** Versions a specific policy names that the repository does not hold, with the reason. */
  private readonly policyMissing = new Map<string, string>();

  constructor(
    @Inject(INFERENCE_CONFIG) private readonly config: InferenceConfig,
    @Inject(MODEL_SOURCE) private readonly source: ModelSource,
    private readonly pool: WorkerPool,
    private readonly metrics: InferenceMetrics,
  ) {
    pool.onCapacity(() => this.pumpAll());
    metrics.backend.set({ backend: pool.backend }, 1);
    metrics.sampler = () => this.sample();
  }

  /** True for a model (and version) this process was asked to load: only those become metric label values. */
  knows(name: string, version?: number): boolean {
    for (const v of this.versions.values()) if (v.name === name && (version === undefined || v.version === version)) return true;
    return false;
  }

  get backend(): string {
    return this.pool.backend;
  }

  /**
   * Loads what MODEL_VERSION_POLICY selects; resolves when every one is AVAILABLE or FAILED. A
   * specific policy's version that the repository does not hold is never loadable: it keeps the
   * replica unready, with the reason in its readiness check and an error in the log (a typo in
   * the policy must not look like a replica that serves what it was asked to).
   */
  async applyStartupPolicy(): Promise<void> {
    const policy = this.config.MODEL_VERSION_POLICY;
    const selected: ModelVersion[] = [];
    const present = new Map<string, number[]>();
    for (const model of await this.source.listModels()) {
      const versions = await this.source.listVersions(model);
      present.set(model, versions);
      for (const version of selectVersions(policy, model, versions)) selected.push(await this.load(model, version));
    }
    if (policy.kind === 'specific') {
      for (const [model, wanted] of Object.entries(policy.versions)) {
        const held = present.get(model);
        for (const version of wanted.filter((v) => !held?.includes(v))) {
          const reason = held ? `NOT_FOUND: the repository holds versions ${held.join(', ') || 'none'} of "${model}"` : `NOT_FOUND: the repository has no model "${model}"`;
          this.policyMissing.set(versionKey(model, version), reason);
          this.logger.error(`MODEL_VERSION_POLICY names ${versionKey(model, version)}, which cannot load: ${reason}`);
        }
      }
    }
    this.policyKeys = selected.map((v) => v.key);
    await Promise.all(selected.map((v) => v.loading));
  }

  readiness(): { ready: boolean; checks: Record<string, string> } {
    if (!this.policyKeys) return { ready: false, checks: { policy: 'selecting versions' } };
    // A missing version's check is its reason, never AVAILABLE, so it keeps the replica unready.
    const checks: Record<string, string> = { ...Object.fromEntries(this.policyKeys.map((k) => [k, this.versions.get(k)?.state ?? 'UNKNOWN'])), ...Object.fromEntries(this.policyMissing) };
    return { ready: Object.values(checks).every((s) => s === ModelState.AVAILABLE), checks };
  }

  /** Starts loading a version (0: the latest in the repository) and returns at once; poll GetModelStatus. */
  async load(name: string, version: number): Promise<ModelVersion> {
    const present = await this.repositoryVersions(name);
    const wanted = version || Math.max(...present);
    if (!present.includes(wanted)) throw ServableError.notFound(`model "${name}" has no version ${wanted} in the repository`);
    const existing = this.versions.get(versionKey(name, wanted));
    if (existing && existing.state !== ModelState.FAILED && existing.state !== ModelState.END) return existing;
    const mv = new ModelVersion(name, wanted);
    this.versions.set(mv.key, mv);
    this.setState(mv, ModelState.START);
    const run = this.loadChain.then(() => this.doLoad(mv));
    this.loadChain = run;
    mv.loading = run;
    return mv;
  }

  async unload(name: string, version: number): Promise<ModelVersion> {
    const mv = this.versions.get(versionKey(name, version));
    if (!mv || mv.state === ModelState.END) throw ServableError.notFound(`model "${name}" version ${version} is not loaded`);
    await mv.loading;
    if (mv.state !== ModelState.AVAILABLE) return mv;
    this.setState(mv, ModelState.UNLOADING);
    // In-flight and queued requests of this version finish first; new ones are refused from now on.
    await mv.batcher?.drain();
    await this.pool.unload(mv.key);
    mv.batcher = undefined;
    this.setState(mv, ModelState.END);
    // Readiness waits for the start-up policy's loads; a version the control plane unloads since
    // (a retired one on a shared repository) was unloaded on purpose and is no longer waited for.
    // Kept in the list, it made the replica unready for good and dropped it from the Service.
    if (this.policyKeys?.includes(mv.key)) this.policyKeys = this.policyKeys.filter((k) => k !== mv.key);
    this.logger.log(`${mv.key} unloaded`);
    return mv;
  }

  statuses(name: string, version: number): v1.ModelVersionStatus[] {
    const matches = [...this.versions.values()].filter((v) => v.name === name && (!version || v.version === version));
    if (matches.length === 0) {
      throw ServableError.notFound(version ? `model "${name}" version ${version} is not known here` : `model "${name}" is not known here`);
    }
    return matches.sort((a, b) => a.version - b.version).map((v) => v.status(this.backend));
  }

  /** The version a Predict goes to; every other state answers with the code a client can act on. */
  async forPredict(name: string, version: number): Promise<ModelVersion> {
    if (!version) {
      const available = [...this.versions.values()].filter((v) => v.name === name && v.state === ModelState.AVAILABLE);
      if (available.length) return available.reduce((a, b) => (b.version > a.version ? b : a));
      if (![...this.versions.values()].some((v) => v.name === name)) throw ServableError.notFound(`model "${name}" is not loaded`);
      throw new ServableError(ErrorCode.UNAVAILABLE, `model "${name}" has no AVAILABLE version yet`, { retryAfterSeconds: 1 });
    }
    const mv = this.versions.get(versionKey(name, version));
    switch (mv?.state) {
      case ModelState.AVAILABLE:
        return mv;
      case ModelState.START:
      case ModelState.LOADING:
        // Transient: the same call succeeds once warm-up ends, so UNAVAILABLE (retryable), never FAILED_PRECONDITION.
        throw new ServableError(ErrorCode.UNAVAILABLE, `model "${name}" version ${version} is ${mv.state}; retry shortly`, { retryAfterSeconds: 1 });
      case ModelState.UNLOADING:
        throw new ServableError(ErrorCode.UNAVAILABLE, `model "${name}" version ${version} is unloading`);
      case ModelState.FAILED:
        throw new ServableError(ErrorCode.FAILED_PRECONDITION, `model "${name}" version ${version} failed to load: ${mv.error?.message}`);
      case ModelState.END:
        throw new ServableError(ErrorCode.FAILED_PRECONDITION, `model "${name}" version ${version} was unloaded; ${LOAD_HINT}`);
    }
    const present = await this.repositoryVersions(name).catch(() => [] as number[]);
    if (present.includes(version)) {
      throw new ServableError(ErrorCode.FAILED_PRECONDITION, `model "${name}" version ${version} is not loaded; ${LOAD_HINT}`);
    }
    throw ServableError.notFound(`model "${name}" has no version ${version}`);
  }

  /** Runs what is queued everywhere and stops taking work (SIGTERM). */
  async drainAll(): Promise<void> {
    await Promise.all([...this.versions.values()].map((v) => v.batcher?.drain()));
  }

  private async repositoryVersions(name: string): Promise<number[]> {
    const models = await this.source.listModels();
    if (!models.includes(name)) throw ServableError.notFound(`model "${name}" is not in the repository`);
    return this.source.listVersions(name);
  }

  private async doLoad(mv: ModelVersion): Promise<void> {
    const started = performance.now();
    try {
      const manifest = await this.source.readManifest(mv.name, mv.version);
      mv.manifest = manifest;
      mv.signature = signatureOf(manifest);
      if (manifest.framework === 'tf-saved-model' && !this.backend.startsWith('tensorflow')) {
        throw new ServableError(ErrorCode.FAILED_PRECONDITION, `${SAVED_MODEL_NEEDS_NATIVE} (backend in use: ${this.backend})`);
      }
      this.setState(mv, ModelState.LOADING);
      const batching = batchingOf(manifest, this.config);
      await this.pool.load(mv.key, this.source.versionDir(mv.name, mv.version), manifest, warmupPlanOf(manifest, batching));
      mv.batcher = new DynamicBatcher(batching, this.executor(mv, manifest.tokenizer.pad_id, fixedSequenceLength(manifest)), traceBatches(this.hooks(mv), mv.name, mv.version));
      this.metrics.queueCapacity.set({ model: mv.name, version: String(mv.version) }, batching.maxQueueSize);
      this.setState(mv, ModelState.AVAILABLE);
      this.metrics.loadDuration.observe({ model: mv.name }, (performance.now() - started) / 1000);
      this.logger.log(`${mv.key} AVAILABLE on ${this.backend} after ${Math.round(performance.now() - started)} ms (loaded and warmed up)`);
    } catch (err) {
      mv.fail(err);
      this.setState(mv, ModelState.FAILED);
      this.metrics.loadFailures.inc({ model: mv.name, version: String(mv.version) });
      this.logger.error(`${mv.key} FAILED: ${mv.error?.message}`);
      await this.pool.unload(mv.key).catch(() => undefined);
    }
  }

  /** Pads each batch to its longest row (or the length the signature fixes) with the tokenizer's pad id and runs it on the pool. */
  private executor(mv: ModelVersion, padId: number, fixedLength: number | undefined): BatchExecutor<Float32Array> {
    const key = mv.key;
    return {
      hasCapacity: () => this.pool.hasCapacity(key),
      idleSlots: () => this.pool.idleSlots(key),
      execute: async (batch) => {
        const seq = fixedLength ?? batch.seqLength;
        const ids = new Int32Array(batch.paddedBatchSize * seq);
        if (padId !== 0) ids.fill(padId);
        batch.rows.forEach((row, r) => ids.set(row, r * seq));
        const { output, computeUs } = await this.pool.predict({ key, ids, batch: batch.paddedBatchSize, seq });
        const width = output.length / batch.paddedBatchSize;
        return { outputs: batch.rows.map((_, r) => output.subarray(r * width, (r + 1) * width)), computeUs };
      },
    };
  }

  private hooks(mv: ModelVersion) {
    const labels = { model: mv.name, version: String(mv.version) };
    // Children bound once per version: prom-client checks and hashes a label object on every
    // observe, and the queue time is observed for every row.
    const batchSize = this.metrics.batchSize.labels(labels);
    const paddingRatio = this.metrics.paddingRatio.labels(labels);
    const queueTime = this.metrics.queueTime.labels(labels);
    const computeTime = this.metrics.computeTime.labels(labels);
    return {
      onBatch: (s: { size: number; paddingRatio: number; queueMs: number[] }) => {
        batchSize.observe(s.size);
        paddingRatio.observe(s.paddingRatio);
        for (const ms of s.queueMs) queueTime.observe(ms / 1000);
      },
      onBatchDone: (_: unknown, computeUs: number) => computeTime.observe(computeUs / 1e6),
    };
  }

  private pumpAll(): void {
    for (const v of this.versions.values()) v.batcher?.pump();
  }

  private setState(mv: ModelVersion, state: v1.ModelState): void {
    mv.state = state;
    for (const s of Object.values(ModelState)) {
      if (s !== ModelState.UNKNOWN) this.metrics.modelState.set({ model: mv.name, version: String(mv.version), state: s }, s === state ? 1 : 0);
    }
  }

  private sample(): void {
    for (const v of this.versions.values()) {
      this.metrics.queueDepth.set({ model: v.name, version: String(v.version) }, v.batcher?.queueDepth ?? 0);
    }
    this.metrics.reportBusySeconds(this.pool.busySeconds());
    this.metrics.workers.set(this.pool.workerCount);
  }
}
