// A predict worker thread: one TF.js backend, every loaded model version,
// one batch at a time. Batches and loads arrive as messages (worker-protocol.ts).
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from './backend-init';
import { loadModelRunner, type ModelRunner } from './model-runner';
import type { FromWorker, ToWorker, WarmupPlan, WorkerInit } from './worker-protocol';

if (!parentPort) throw new Error('predict-worker.js runs as a worker thread of inference, not on its own');
const port = parentPort;
const models = new Map<string, ModelRunner>();
const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
const yieldToMessages = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Lowers this thread's CPU priority to the lowest for the length of a load (on
 * Linux the nice value is per thread). The pool sends no batches to a loading
 * worker while another can serve, and on a busy machine the load must not take
 * CPU from the threads that are serving other versions either: at nice 19 it
 * gets what they leave. (Measured with v2's 4.2 MB bigram table, reloading v2
 * under steady v1 traffic on two cores: v1's p99 during loads against quiet
 * windows was 1.67-1.78x at nice +10 and 1.43-1.62x at 19, in three alternating
 * runs of each.)
 * Best effort: where raising the priority back needs privileges, the thread
 * stays nicer than the main one.
 */
function lowPriorityWhileLoading(): () => void {
  let before: number;
  try {
    before = getPriority(0);
    setPriority(0, 19);
  } catch {
    return () => undefined;
  }
  return () => {
    try {
      setPriority(0, before);
    } catch {
      /* not permitted: keep the lower priority */
    }
  };
}

/** Runs the warm-up shapes one at a time, yielding between them so batches of other versions get in. */
async function warmUp(runner: ModelRunner, plan: WarmupPlan): Promise<void> {
  for (const { batch, seq } of plan.shapes) {
    await yieldToMessages();
    runner.run(new Int32Array(batch * seq).fill(1), batch, seq);
  }
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'predict': {
      const runner = models.get(message.key);
      if (!runner) return post({ type: 'error', id: message.id, message: `model ${message.key} is not loaded on this worker` });
      const started = performance.now();
      const output = runner.run(message.ids, message.batch, message.seq);
      const computeUs = Math.round((performance.now() - started) * 1000);
      return post({ type: 'result', id: message.id, output, computeUs }, [output.buffer as ArrayBuffer]);
    }
    case 'load': {
      const restore = lowPriorityWhileLoading();
      try {
        await yieldToMessages();
        const runner = await loadModelRunner(message.dir, message.manifest);
        await warmUp(runner, message.warmup);
        models.get(message.key)?.dispose();
        models.set(message.key, runner);
      } finally {
        restore();
      }
      return post({ type: 'done', id: message.id });
    }
    case 'unload':
      models.get(message.key)?.dispose();
      models.delete(message.key);
      return post({ type: 'done', id: message.id });
  }
}

port.on('message', (message: ToWorker) => {
  handle(message).catch((err: Error) => post({ type: 'error', id: message.id, message: err?.message ?? String(err) }));
});

initBackend((workerData as WorkerInit).backend).then(
  (backend) => post({ type: 'ready', backend }),
  (err: Error) => post({ type: 'init-failed', message: err.message }),
);
