import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { busiestThreadsCpuMeter } from './_support.mjs';

// Spins for 400 ms, says so, then stays alive (idle) until terminated: a thread that has exited is
// gone from /proc, as the benchmark's predict workers never are while it reads them.
// Spins in 15 bursts of 20 ms with a 3-ms blocking wait after each, then says so and idles.
const NAPPER = `
const { parentPort } = require('node:worker_threads');
const cell = new Int32Array(new SharedArrayBuffer(4));
for (let k = 0; k < 15; k++) {
  const end = Date.now() + 20;
  while (Date.now() < end);
  Atomics.wait(cell, 0, 0, 3);
}
parentPort.postMessage('done');
setInterval(() => undefined, 1000);
`;

const SPINNER = `
const { parentPort } = require('node:worker_threads');
const end = Date.now() + 400;
while (Date.now() < end);
parentPort.postMessage('spun');
setInterval(() => undefined, 1000);
`;

describe('busiestThreadsCpuMeter', () => {
  it("counts a busy worker thread's CPU and leaves the main thread's out", async () => {
    // The two busiest threads besides the main one: the spinner and at most an idle helper thread.
    const meter = busiestThreadsCpuMeter(process.pid, 2);
    const worker = new Worker(SPINNER, { eval: true });
    try {
      await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
      // The main thread (the test's: vitest runs it in a process of its own) spins 500 ms more.
      const end = Date.now() + 500;
      while (Date.now() < end);
      const { cpuMs: ms } = meter();
      // /proc counts in 10-ms ticks, and a shared machine may take some of the spinner's wall time;
      // the main thread's 500 ms would take it past 650.
      expect(ms).toBeGreaterThan(250);
      expect(ms).toBeLessThan(650);
    } finally {
      await worker.terminate();
    }
  });

  it('counts the times the busiest thread went to sleep waiting', async () => {
    const meter = busiestThreadsCpuMeter(process.pid, 1);
    const worker = new Worker(NAPPER, { eval: true });
    try {
      await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
      const { cpuMs, sleeps } = meter();
      expect(cpuMs).toBeGreaterThan(150);
      // One sleep per blocking wait, and a few more for its start, its message and its timer.
      expect(sleeps).toBeGreaterThanOrEqual(15);
      expect(sleeps).toBeLessThan(60);
    } finally {
      await worker.terminate();
    }
  });
});
