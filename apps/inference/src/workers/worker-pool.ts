import { Worker } from 'node:worker_threads';
import { ErrorCode, ServableError } from '@servable/contracts';
import type { ModelManifest } from '@servable/model-repository';
import type { FromWorker, ToWorker, WarmupPlan, WorkerInit } from './worker-protocol';

const RESPAWN_DELAY_MS = 1000;

type Outgoing = ToWorker extends infer M ? (M extends { id: number } ? Omit<M, 'id'> : never) : never;

export interface PredictTask {
  key: string;
  ids: Int32Array;
  batch: number;
  seq: number;
}

export interface PredictOutput {
  output: Float32Array;
  computeUs: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface QueuedTask {
  task: PredictTask;
  pending: Pending;
}

class PoolWorker {
  readonly models = new Set<string>();
  busy = false;
  /** Models being loaded here; a loading worker is picked last so the load rarely delays a batch. */
  loading = 0;
  alive = true;
  busyMs = 0;
  private busySince = 0;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    readonly index: number,
    readonly thread: Worker,
  ) {}

  send<T>(message: Outgoing, transfer: ArrayBuffer[] = []): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.thread.postMessage({ ...message, id }, transfer);
    });
  }

  settle(message: FromWorker): void {
    if (!('id' in message)) return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    if (message.type === 'error') pending.reject(new ServableError(ErrorCode.INTERNAL, message.message));
    else pending.resolve(message);
  }

  failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  markBusy(now: number): void {
    this.busy = true;
    this.busySince = now;
  }

  markIdle(now: number): void {
    this.busy = false;
    this.busyMs += now - this.busySince;
  }

  /** Busy time including a batch still running. */
  busyTime(now: number): number {
    return this.busyMs + (this.busy ? now - this.busySince : 0);
  }
}

/**
 * Worker threads that run batches, one backend per thread: TF.js WASM is
 * single-threaded in Node, so threads are how inference uses every core. The
 * main thread keeps gRPC and batching and never runs a model itself.
 */
export class WorkerPool {
  private workers: PoolWorker[] = [];
  private readonly queue: QueuedTask[] = [];
  private readonly listeners = new Set<() => void>();
  private closing = false;
  /** What every worker has loaded, so a replacement thread can load the same. */
  private readonly loaded = new Map<string, { dir: string; manifest: ModelManifest; warmup: WarmupPlan }>();
  backend = 'unknown';

  constructor(
    private readonly size: number,
    private readonly script: { path: string; execArgv?: string[] },
    private readonly init: WorkerInit,
    private readonly onWorkerExit: (index: number, error: Error) => void = () => undefined,
  ) {}

  /** Spawns every thread and waits until each has its backend; resolves with the backend's name. */
  async start(): Promise<string> {
    const ready = Array.from({ length: this.size }, (_, index) => this.spawn(index));
    const backends = await Promise.all(ready);
    this.backend = backends[0];
    return this.backend;
  }

  get workerCount(): number {
    return this.workers.filter((w) => w.alive).length;
  }

  /** Called whenever a worker frees up; every batcher subscribes and pumps its queue. */
  onCapacity(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A batch handed over now would start at once. */
  hasCapacity(key?: string): boolean {
    return this.idleSlots(key) > 0;
  }

  /** Batches for `key` that would start at once. */
  idleSlots(key?: string): number {
    return Math.max(0, this.eligible(key).length - this.queue.length);
  }

  /**
   * Idle workers that can run `key`. A worker busy loading another version is
   * left out while any other worker has the model: its thread may be deep in
   * a warm-up batch, and a request sent there would wait for it.
   */
  private eligible(key: string | undefined): PoolWorker[] {
    const serving = this.workers.filter((w) => w.alive && (key === undefined || w.models.has(key)));
    const usable = serving.some((w) => w.loading === 0) ? serving.filter((w) => w.loading === 0) : serving;
    return usable.filter((w) => !w.busy);
  }

  predict(task: PredictTask): Promise<PredictOutput> {
    return new Promise((resolve, reject) => {
      this.queue.push({ task, pending: { resolve: resolve as (v: unknown) => void, reject } });
      this.dispatch();
    });
  }

  /**
   * Loads a model on every worker, one worker at a time: while one thread
   * loads and warms up, the others keep serving at full speed, so other
   * versions' requests never wait behind a load.
   */
  async load(key: string, dir: string, manifest: ModelManifest, warmup: WarmupPlan): Promise<void> {
    for (const worker of this.workers.filter((w) => w.alive)) {
      worker.loading++;
      try {
        await worker.send({ type: 'load', key, dir, manifest, warmup });
        worker.models.add(key);
      } finally {
        worker.loading--;
      }
      this.notify();
    }
    this.loaded.set(key, { dir, manifest, warmup });
  }

  async unload(key: string): Promise<void> {
    this.loaded.delete(key);
    await Promise.all(
      this.workers
        .filter((w) => w.alive && w.models.has(key))
        .map(async (w) => {
          w.models.delete(key);
          await w.send({ type: 'unload', key });
        }),
    );
  }

  /** Seconds the workers spent running batches since start, summed over every worker that ever ran. */
  busySeconds(): number {
    const now = performance.now();
    return this.workers.reduce((s, w) => s + w.busyTime(now), 0) / 1000;
  }

  async close(): Promise<void> {
    this.closing = true;
    const error = new ServableError(ErrorCode.UNAVAILABLE, 'inference is shutting down');
    for (const q of this.queue.splice(0)) q.pending.reject(error);
    await Promise.all(
      this.workers.map(async (w) => {
        w.alive = false;
        w.failAll(error);
        await w.thread.terminate();
      }),
    );
  }

  private spawn(index: number): Promise<string> {
    const thread = new Worker(this.script.path, { workerData: this.init, execArgv: this.script.execArgv });
    const worker = new PoolWorker(index, thread);
    this.workers[index] = worker;
    return new Promise<string>((resolve, reject) => {
      thread.on('message', (message: FromWorker) => {
        if (message.type === 'ready') resolve(message.backend);
        else if (message.type === 'init-failed') reject(new Error(message.message));
        else worker.settle(message);
      });
      thread.once('error', (err) => {
        reject(err);
        this.retire(worker, err);
      });
      thread.once('exit', (code) => {
        if (worker.alive) this.retire(worker, new Error(`predict worker ${index} exited with code ${code}`));
      });
    });
  }

  private retire(worker: PoolWorker, error: Error): void {
    if (!worker.alive) return;
    worker.alive = false;
    worker.failAll(new ServableError(ErrorCode.INTERNAL, `predict worker ${worker.index} failed: ${error.message}`));
    this.onWorkerExit(worker.index, error);
    this.dispatch();
    // A thread that died (a WASM abort, out of memory) is replaced after a pause, so a crash loop stays slow.
    if (!this.closing) setTimeout(() => void this.replace(worker.index), RESPAWN_DELAY_MS).unref();
  }

  /** Starts a new thread in place of a dead one and loads every model the pool serves into it. */
  private async replace(index: number): Promise<void> {
    if (this.closing) return;
    try {
      await this.spawn(index);
      const worker = this.workers[index];
      for (const [key, args] of this.loaded) {
        worker.loading++;
        try {
          await worker.send({ type: 'load', key, ...args });
          if (this.loaded.has(key)) worker.models.add(key);
        } finally {
          worker.loading--;
        }
      }
      this.notify();
    } catch (err) {
      this.onWorkerExit(index, err as Error);
    }
  }

  /** Hands queued batches to idle workers that have the model. */
  private dispatch(): void {
    for (let i = 0; i < this.queue.length; ) {
      const { task, pending } = this.queue[i];
      const candidates = this.eligible(task.key);
      if (candidates.length === 0) {
        if (!this.workers.some((w) => w.alive && w.models.has(task.key))) {
          this.queue.splice(i, 1);
          pending.reject(new ServableError(ErrorCode.UNAVAILABLE, `model ${task.key} is not loaded on any worker`));
          continue;
        }
        i++;
        continue;
      }
      const worker = candidates[0];
      this.queue.splice(i, 1);
      this.run(worker, task, pending);
    }
  }

  private run(worker: PoolWorker, task: PredictTask, pending: Pending): void {
    worker.markBusy(performance.now());
    worker
      .send<{ output: Float32Array; computeUs: number }>({ type: 'predict', key: task.key, ids: task.ids, batch: task.batch, seq: task.seq }, [
        task.ids.buffer as ArrayBuffer,
      ])
      .then(
        (m) => pending.resolve({ output: m.output, computeUs: m.computeUs }),
        (err: Error) => pending.reject(err),
      )
      .finally(() => {
        worker.markIdle(performance.now());
        this.dispatch();
        this.notify();
      });
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
