import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startScript } from './_support.mjs';

const floors = [];
afterEach(async () => {
  for (const f of floors.splice(0)) await f.stop();
});

async function start(kind) {
  const port = await freePort();
  floors.push(await startScript('http-floor-server.mjs', [kind, port]));
  return `http://127.0.0.1:${port}/v1/models/spam:classify`;
}

// The gateway benchmark's floor rows count every answer as a request served: a floor that answered
// autocannon's requests with an error would measure an error path instead, and autocannon's non-2xx
// check is what stops that.
describe.each(['node-http', 'fastify'])('the %s HTTP floor', (kind) => {
  it('answers a classify request with one prediction per text, and a malformed one with 400', async () => {
    const url = await start(kind);
    const ok = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ texts: ['one', 'three'] }) });
    expect(ok.status).toBe(200);
    expect((await ok.json()).predictions).toHaveLength(2);
    for (const body of ['{"texts": []}', '{"texts": [1]}', 'not json']) {
      const bad = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(bad.status, body).toBe(400);
    }
  });
});
