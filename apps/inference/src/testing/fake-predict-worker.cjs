// A predict worker without TF.js, for pool and service tests: each row's
// output is [sum of its ids, the batch's padded length], so tests can see padding.
const { parentPort } = require('node:worker_threads');
const models = new Set();
parentPort.on('message', (m) => {
  if (m.type === 'load') {
    setTimeout(() => {
      if (m.manifest && m.manifest.failLoad) return parentPort.postMessage({ type: 'error', id: m.id, message: m.manifest.failLoad });
      models.add(m.key);
      parentPort.postMessage({ type: 'done', id: m.id });
    }, (m.manifest && m.manifest.loadDelayMs) || 5);
  } else if (m.type === 'unload') {
    models.delete(m.key);
    parentPort.postMessage({ type: 'done', id: m.id });
  } else if (m.type === 'predict') {
    // A row starting with -7 kills the thread, as a WASM abort would.
    if (m.ids[0] === -7) process.exit(3);
    if (!models.has(m.key)) return parentPort.postMessage({ type: 'error', id: m.id, message: 'not loaded' });
    const out = new Float32Array(m.batch * 2);
    for (let r = 0; r < m.batch; r++) {
      let sum = 0;
      for (let c = 0; c < m.seq; c++) sum += m.ids[r * m.seq + c];
      out[r * 2] = sum;
      out[r * 2 + 1] = m.seq;
    }
    // A batch whose first row starts with 99 takes 300 ms, so that tests can queue rows behind it.
    const answer = () => parentPort.postMessage({ type: 'result', id: m.id, output: out, computeUs: 10 }, [out.buffer]);
    if (m.ids[0] === 99) setTimeout(answer, 300);
    else answer();
  }
});
parentPort.postMessage({ type: 'ready', backend: 'fake' });
