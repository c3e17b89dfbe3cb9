import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { ModelManifest } from '@servable/model-repository';
import { warmUpInWorker } from './model-check';

// Stand-ins for the bundled warm-up-worker.js: each does one thing a worker can do.
const WORKERS = {
  passes: `import { parentPort, workerData } from 'node:worker_threads'; parentPort.postMessage(workerData.dir === '/staged' && workerData.manifest.name === 'm' && Buffer.from(workerData.tokenizer).toString() === '{}' ? {} : { error: 'wrong data' });`,
  refuses: `import { parentPort } from 'node:worker_threads'; parentPort.postMessage({ error: 'the warm-up prediction gave 3 values for 2 classes' });`,
  throws: `throw new Error('Unknown layer: Custom');`,
  exits: `process.exit(3);`,
  lingers: `import { parentPort } from 'node:worker_threads'; setInterval(() => {}, 1000); parentPort.postMessage({});`,
};

describe('warmUpInWorker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'model-check-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const check = (name: keyof typeof WORKERS) => {
    const file = join(dir, `${name}.mjs`);
    writeFileSync(file, WORKERS[name]);
    return warmUpInWorker(file)('/staged', { name: 'm' } as ModelManifest, Buffer.from('{}'));
  };

  it("hands the worker the staged folder and manifest, and resolves on its answer", async () => {
    await expect(check('passes')).resolves.toBeUndefined();
  });

  it("fails with the worker's reason, as the check in the process did", async () => {
    await expect(check('refuses')).rejects.toThrow('the warm-up prediction gave 3 values for 2 classes');
    await expect(check('throws')).rejects.toThrow('Unknown layer: Custom');
  });

  it('fails when the worker ends without an answer', async () => {
    await expect(check('exits')).rejects.toThrow("the model check's worker thread exited (code 3) before it answered");
  });

  it('ends the worker once it has answered, even one that would keep running (its memory goes with it)', async () => {
    const terminate = vi.spyOn(Worker.prototype, 'terminate');
    await expect(check('lingers')).resolves.toBeUndefined();
    expect(terminate).toHaveBeenCalledTimes(1);
    await terminate.mock.results[0].value;
    expect((terminate.mock.contexts[0] as Worker).threadId).toBe(-1); // a worker that has stopped has no thread
    terminate.mockRestore();
  });
});
