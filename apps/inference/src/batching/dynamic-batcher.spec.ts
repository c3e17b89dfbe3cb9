import { describe, expect, it } from 'vitest';
import { ErrorCode, ServableError } from '@servable/contracts';
import { FakeClock } from '../testing/fake-clock';
import type { BatchingOptions } from './batching-options';
import { DynamicBatcher, type BatchExecutor, type BatchRunResult, type PreparedBatch } from './dynamic-batcher';

/** An executor with a fixed number of slots whose batches finish when the test says so. */
class ManualExecutor implements BatchExecutor<number> {
  readonly batches: PreparedBatch[] = [];
  private readonly pending: Array<() => void> = [];
  constructor(private slots = 1) {}

  hasCapacity(): boolean {
    return this.pending.length < this.slots;
  }

  execute(batch: PreparedBatch): Promise<BatchRunResult<number>> {
    this.batches.push(batch);
    return new Promise((resolve) => {
      // Each row's output is its first id, so tests can check where every row went.
      this.pending.push(() => resolve({ outputs: batch.rows.map((r) => r[0] ?? -1), computeUs: 100 }));
    });
  }

  /** Finishes the oldest running batch and lets the promise callbacks run. */
  async finish(): Promise<void> {
    this.pending.shift()?.();
    await flush();
  }
}

const flush = () => new Promise((r) => setImmediate(r));
const row = (first: number, length = 1) => Int32Array.from({ length }, (_, i) => (i === 0 ? first : 7));
const options = (o: Partial<BatchingOptions> = {}): BatchingOptions => ({
  maxBatchSize: 4,
  batchTimeoutMicros: 2000,
  maxQueueSize: 16,
  maxBatchTokens: 1024,
  ...o,
});

function setup(o: Partial<BatchingOptions> = {}, slots = 1) {
  const clock = new FakeClock();
  const executor = new ManualExecutor(slots);
  const batcher = new DynamicBatcher(options(o), executor, {}, clock);
  return { clock, executor, batcher };
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as ServableError).code;
  }
  return 'OK';
}

describe('DynamicBatcher', () => {
  it('runs a lone request at once when nothing of the version is running', async () => {
    const { executor, batcher } = setup();
    const a = batcher.submit([row(1)]);
    expect(executor.batches.map((x) => x.rows.length)).toEqual([1]);
    await executor.finish();
    expect((await a).timing).toMatchObject({ queueUs: 0, computeUs: 100, batchSize: 1, batches: 1 });
  });

  it('while a batch runs, waits batch_timeout for a partial batch on a free worker, then runs it', async () => {
    const { clock, executor, batcher } = setup({}, 2);
    void batcher.submit([row(0)]);
    const a = batcher.submit([row(1)]);
    const b = batcher.submit([row(2)]);
    clock.advance(1.9);
    expect(executor.batches).toHaveLength(1);
    clock.advance(0.1);
    expect(executor.batches.map((x) => x.rows.length)).toEqual([1, 2]);
    await executor.finish();
    await executor.finish();
    expect((await a).outputs).toEqual([1]);
    expect((await b).timing).toMatchObject({ queueUs: 2000, computeUs: 100, batchSize: 2, batches: 1 });
  });

  it('runs a full batch at once, without waiting for the timeout', () => {
    const { executor, batcher } = setup({}, 2);
    for (let i = 0; i < 6; i++) void batcher.submit([row(i)]);
    // The first row found the version idle and left alone; the next four filled a batch.
    expect(executor.batches.map((x) => x.rows.length)).toEqual([1, 4]);
  });

  it('keeps rows queued while the executor is busy, so the next batch grows', async () => {
    const { clock, executor, batcher } = setup({ maxBatchSize: 8 });
    void batcher.submit([row(0)]);
    clock.advance(2);
    expect(executor.batches).toHaveLength(1);
    for (let i = 1; i <= 5; i++) void batcher.submit([row(i)]);
    clock.advance(10);
    expect(executor.batches).toHaveLength(1);
    await executor.finish();
    expect(executor.batches[1].rows.map((r) => r[0])).toEqual([1, 2, 3, 4, 5]);
  });

  it('spreads what is queued over every free worker instead of one big batch', () => {
    const clock = new FakeClock();
    let slots = 0;
    const batches: PreparedBatch[] = [];
    const executor: BatchExecutor<number> = {
      hasCapacity: () => slots > 0,
      idleSlots: () => slots,
      execute: (batch) => {
        slots--;
        batches.push(batch);
        return new Promise(() => undefined);
      },
    };
    const batcher = new DynamicBatcher(options({ maxBatchSize: 64 }), executor, {}, clock);
    for (let i = 0; i < 10; i++) void batcher.submit([row(i)]);
    slots = 2;
    batcher.pump();
    expect(batches.map((b) => b.rows.length)).toEqual([5, 5]);
  });

  it('bounds padded tokens per batch (max_batch_tokens) and pads only to the longest row', () => {
    const { clock, executor, batcher } = setup({ maxBatchSize: 8, maxBatchTokens: 30 }, 4);
    void batcher.submit([row(1, 10), row(2, 10), row(3, 10), row(4, 3)]);
    clock.advance(2);
    // Three rows of 10 fill the 30-token budget; the short row goes on its own.
    expect(executor.batches.map((b) => [b.rows.length, b.seqLength])).toEqual([
      [3, 10],
      [1, 3],
    ]);
    expect(executor.batches[0].paddingRatio).toBe(0);
  });

  it('groups rows of similar length when more than one batch is queued', () => {
    const { executor, batcher } = setup({ maxBatchSize: 2 }, 0);
    void batcher.submit([row(1, 50), row(2, 3), row(3, 48), row(4, 4)]);
    (executor as unknown as { slots: number }).slots = 2;
    batcher.pump();
    expect(executor.batches.map((b) => b.rows.map((r) => r[0]))).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(executor.batches[1].seqLength).toBe(4);
    expect(executor.batches[1].paddingRatio).toBeCloseTo(1 / 8);
  });

  it('pads the batch size up to an allowed batch size', () => {
    const { clock, executor, batcher } = setup({ maxBatchSize: 32, allowedBatchSizes: [1, 4, 8] });
    void batcher.submit([row(1), row(2), row(3)]);
    clock.advance(2);
    expect(executor.batches[0]).toMatchObject({ paddedBatchSize: 4, seqLength: 1 });
    expect(executor.batches[0].paddingRatio).toBeCloseTo(0.25);
  });

  it('splits a large request across batches and returns its rows whole and in order', async () => {
    const { clock, executor, batcher } = setup({ maxBatchSize: 3 }, 2);
    const result = batcher.submit([0, 1, 2, 3, 4, 5, 6].map((i) => row(i)));
    expect(executor.batches.map((b) => b.rows.length)).toEqual([3, 3]);
    await executor.finish();
    await executor.finish();
    clock.advance(2);
    await executor.finish();
    const { outputs, timing } = await result;
    expect(outputs).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(timing.batches).toBe(3);
  });

  it('answers RESOURCE_EXHAUSTED at once when the queue is full', async () => {
    const { batcher } = setup({ maxQueueSize: 3 }, 0);
    void batcher.submit([row(1), row(2)]);
    expect(await code(batcher.submit([row(3), row(4)]))).toBe(ErrorCode.RESOURCE_EXHAUSTED);
    expect(batcher.queueDepth).toBe(2);
  });

  it('drops a request whose deadline passes while queued (DEADLINE_EXCEEDED) and runs the rest', async () => {
    const { clock, executor, batcher } = setup({}, 0);
    const late = batcher.submit([row(1)], { deadline: 5 });
    const fine = batcher.submit([row(2)]);
    clock.advance(5);
    expect(await code(late)).toBe(ErrorCode.DEADLINE_EXCEEDED);
    expect(batcher.queueDepth).toBe(1);
    (executor as unknown as { slots: number }).slots = 1;
    batcher.pump();
    expect(executor.batches[0].rows.map((r) => r[0])).toEqual([2]);
    await executor.finish();
    expect((await fine).outputs).toEqual([2]);
    expect(await code(batcher.submit([row(3)], { deadline: 1 }))).toBe(ErrorCode.DEADLINE_EXCEEDED);
  });

  it('drops a cancelled call from the queue (CANCELLED)', async () => {
    const { batcher } = setup({}, 0);
    const controller = new AbortController();
    const call = batcher.submit([row(1), row(2)], { signal: controller.signal });
    void batcher.submit([row(3)]);
    controller.abort();
    expect(await code(call)).toBe(ErrorCode.CANCELLED);
    expect(batcher.queueDepth).toBe(1);
  });

  it('drains: runs what is queued without waiting, refuses new work', async () => {
    const { executor, batcher } = setup();
    const queued = batcher.submit([row(1)]);
    const drained = batcher.drain();
    expect(executor.batches).toHaveLength(1);
    expect(await code(batcher.submit([row(2)]))).toBe(ErrorCode.UNAVAILABLE);
    await executor.finish();
    await drained;
    expect((await queued).outputs).toEqual([1]);
  });

  it('fails every request of a batch whose run fails', async () => {
    const clock = new FakeClock();
    const executor: BatchExecutor<number> = {
      hasCapacity: () => true,
      execute: () => Promise.reject(new ServableError(ErrorCode.INTERNAL, 'worker died')),
    };
    const batcher = new DynamicBatcher(options({ maxBatchSize: 2 }), executor, {}, clock);
    const a = batcher.submit([row(1)]);
    const b = batcher.submit([row(2)]);
    expect([await code(a), await code(b)]).toEqual([ErrorCode.INTERNAL, ErrorCode.INTERNAL]);
  });

  it('tells its hooks which requests\' spans each batch ran, and when a batch fails', async () => {
    const clock = new FakeClock();
    const executor = new ManualExecutor(1);
    const seen: Array<{ spans: string[]; outcome?: string }> = [];
    const batcher = new DynamicBatcher(options({ maxBatchSize: 4 }), executor, {
      onBatch: (s) => seen.push({ spans: s.requestSpans.map((c) => c.spanId) }),
      onBatchDone: () => (seen.at(-1)!.outcome = 'done'),
    }, clock);
    const span = (spanId: string) => ({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId, traceFlags: 1 });
    const first = batcher.submit([row(1)], { span: span('aaaaaaaaaaaaaaaa') });
    // Queued while the first runs: one batch of three requests, one of them untraced.
    const rest = [batcher.submit([row(2), row(3)], { span: span('bbbbbbbbbbbbbbbb') }), batcher.submit([row(4)]), batcher.submit([row(5)], { span: span('cccccccccccccccc') })];
    await executor.finish();
    await executor.finish();
    await Promise.all([first, ...rest]);
    expect(seen).toEqual([
      { spans: ['aaaaaaaaaaaaaaaa'], outcome: 'done' },
      { spans: ['bbbbbbbbbbbbbbbb', 'cccccccccccccccc'], outcome: 'done' },
    ]);

    const failed: string[] = [];
    const broken = new DynamicBatcher(options(), { hasCapacity: () => true, execute: () => Promise.reject(new Error('worker died')) }, {
      onBatchFailed: (_, error) => failed.push(error.message),
    }, clock);
    await expect(broken.submit([row(1)])).rejects.toThrow('worker died');
    expect(failed).toEqual(['worker died']);
  });
});
