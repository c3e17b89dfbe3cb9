import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeManifest } from '../testing/inference-fixtures';
import { WorkerPool } from './worker-pool';

const FAKE = { path: join(__dirname, '../testing/fake-predict-worker.cjs') };
const warmup = { shapes: [{ batch: 1, seq: 1 }] };

describe('WorkerPool', () => {
  let pool: WorkerPool;
  afterEach(async () => pool?.close());

  it('starts every worker, loads a model on each and runs batches on idle workers', async () => {
    pool = new WorkerPool(2, FAKE, { backend: 'auto' });
    expect(await pool.start()).toBe('fake');
    expect(pool.hasCapacity('m:1')).toBe(false);
    await pool.load('m:1', '/nowhere', fakeManifest('m', 1), warmup);
    expect(pool.hasCapacity('m:1')).toBe(true);
    const results = await Promise.all(
      [1, 2, 3].map((v) => pool.predict({ key: 'm:1', ids: Int32Array.from([v, v, 0]), batch: 1, seq: 3 })),
    );
    expect(results.map((r) => [...r.output])).toEqual([
      [2, 3],
      [4, 3],
      [6, 3],
    ]);
  });

  it('refuses batches for a model no worker has, and forgets unloaded ones', async () => {
    pool = new WorkerPool(1, FAKE, { backend: 'auto' });
    await pool.start();
    await pool.load('m:1', '/nowhere', fakeManifest('m', 1), warmup);
    await pool.unload('m:1');
    await expect(pool.predict({ key: 'm:1', ids: new Int32Array(1), batch: 1, seq: 1 })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('reports a failed load', async () => {
    pool = new WorkerPool(1, FAKE, { backend: 'auto' });
    await pool.start();
    await expect(pool.load('m:2', '/nowhere', fakeManifest('m', 2, { failLoad: 'bad weights' }), warmup)).rejects.toThrow('bad weights');
  });

  it('fails the batch of a worker that dies, then replaces the thread and reloads its models', async () => {
    const exits: number[] = [];
    pool = new WorkerPool(1, FAKE, { backend: 'auto' }, (index) => exits.push(index));
    await pool.start();
    await pool.load('m:1', '/nowhere', fakeManifest('m', 1), warmup);
    await expect(pool.predict({ key: 'm:1', ids: Int32Array.from([-7]), batch: 1, seq: 1 })).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(exits).toEqual([0]);
    await vi.waitFor(() => expect(pool.hasCapacity('m:1')).toBe(true), { timeout: 5000 });
    const { output } = await pool.predict({ key: 'm:1', ids: Int32Array.from([2]), batch: 1, seq: 1 });
    expect([...output]).toEqual([2, 1]);
  });
});
