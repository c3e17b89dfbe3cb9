import { afterEach, describe, expect, it } from 'vitest';
import { streamLoad } from './_load.mjs';
import { grpc, grpcPackage } from './_support.mjs';

const pkg = grpcPackage(['servable/inference/v1/inference.proto']);
const servers = [];
const clients = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) s.forceShutdown();
});

/** A PredictStream server that answers every message's items together in one message, with `code(item)`; it records what it was sent. */
async function serve(code = () => 0) {
  const seen = [];
  const server = new grpc.Server();
  server.addService(pkg.servable.inference.v1.InferenceService.service, {
    PredictStream(call) {
      call.on('data', (message) => {
        seen.push(message.items);
        setImmediate(() => call.write({ results: message.items.map((item) => ({ id: item.id, code: code(item), message: code(item) ? 'no replica' : '' })) }));
      });
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  servers.push(server);
  const client = new pkg.servable.inference.v1.InferenceService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  clients.push(client);
  return { client, seen };
}

const request = (name) => ({ modelSpec: { name, version: '2' }, inputs: {} });

// inference-ab judges inference by what this load puts on it: it must keep the gateway's shape (the
// items answered together go out again together) and count only items answered OK.
describe('streamLoad', () => {
  it('keeps its items in flight, sends the items answered in one message again in one message, and counts every answer', async () => {
    const { client, seen } = await serve();
    const r = await streamLoad({ client, requests: [request('a'), request('b')], concurrency: 5, seconds: 0.3 });
    const sent = seen.flat();
    expect(r.requests).toBe(sent.length);
    expect(r.requests).toBeGreaterThan(5 * 5);
    expect(r.p50Ms).toBeGreaterThan(0);
    // All five were answered together every time, so every message but the last ones carries all five.
    expect(seen[0]).toHaveLength(5);
    expect(seen.filter((items) => items.length === 5).length).toBeGreaterThanOrEqual(seen.length - 2);
    // Slot k always sends requests[k % 2], and no two items in flight share an id.
    expect(seen[1].map((item) => item.request.modelSpec.name).sort()).toEqual(['a', 'a', 'a', 'b', 'b']);
    for (const items of seen) expect(new Set(items.map((item) => item.id)).size).toBe(items.length);
  });

  it('fails the run on an item answered with an error, naming its code', async () => {
    const { client } = await serve((item) => (item.id === 3 ? grpc.status.UNAVAILABLE : 0));
    await expect(streamLoad({ client, requests: [request('a')], concurrency: 4, seconds: 0.2 })).rejects.toThrow('a PredictStream item ended in UNAVAILABLE: no replica');
  });
});
