/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of the API under test */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRPC_CHANNEL_OPTIONS, loadGrpcObject } from '@servable/contracts/grpc';
import { waitFor } from '@servable/observability/testing';
import { RoutingTable } from './control-plane/routing-table.service';
import type { RunningGateway } from './gateway-server';
import { MAX_LENGTH, fakeEncode, fakeSpamProbability, type FakeDataPlane } from './testing/fake-data-plane';
import { startTestGateway, type TestGateway } from './testing/test-gateway';

process.env['LOG_LEVEL'] ??= 'warn';

const ADMIN_KEY = 'svb_integration_admin_key_0123456789';

/** Runs `task` for 0..n-1 with at most `width` in flight. */
async function pool<T>(n: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) {
      const i = next++;
      out[i] = await task(i);
    }
  }));
  return out;
}

describe('control plane in the gateway: keys, rollouts, shadow and metrics (fake data plane)', () => {
  let plane: FakeDataPlane;
  let gateway: RunningGateway;
  let testGateway: TestGateway;
  let url: string;
  let grpcUrl: string;
  let keys: { operator: string; client: string };

  const call = async (method: string, path: string, key: string | undefined, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as any) : undefined, headers: res.headers };
  };
  const classify = (headers: Record<string, string> = {}, key = keys.client) => call('POST', '/v1/models/spam:classify', key, { texts: ['free money now'] }, headers);
  const versionServed = async (headers: Record<string, string> = {}) => {
    const res = await classify(headers);
    expect(res.status).toBe(200);
    return Number(res.body.model_version);
  };
  const setRollout = async (rollout: unknown) => {
    const res = await call('PUT', '/admin/api/models/spam/rollout', keys.operator, rollout);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    // The change notifier applies it within a second; refresh now so the test does not wait.
    await gateway.app.get(RoutingTable).refresh();
    return res.body;
  };

  beforeAll(async () => {
    testGateway = await startTestGateway({ SERVABLE_ADMIN_KEY: ADMIN_KEY, METRICS_FLUSH_INTERVAL_MS: '200', MAX_CONCURRENT_REQUESTS: '1024' });
    ({ plane, gateway, url, grpcUrl } = testGateway);
    const create = async (name: string, role: string) => (await call('POST', '/admin/api/api-keys', ADMIN_KEY, { name, role })).body.key as string;
    keys = { operator: await create('ops', 'operator'), client: await create('app', 'client') };
    expect((await call('PUT', '/admin/api/models/spam/labels', keys.operator, { labels: { stable: 1 } })).status).toBe(200);
    await gateway.app.get(RoutingTable).refresh();
  }, 60_000);

  afterAll(async () => {
    await testGateway?.close();
  });

  it('needs a key for inference (401), the right role for changes (403), and audits every change', async () => {
    const anonymous = await classify({}, '');
    expect(anonymous.status).toBe(401);
    // RFC 9110: a 401 says which scheme would be accepted.
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="servable"');
    expect((await classify({}, 'svb_not_a_key')).body.code).toBe('UNAUTHENTICATED');
    expect((await classify({ 'x-api-key': keys.client }, '')).status).toBe(200);
    const denied = await call('PUT', '/admin/api/models/spam/rollout', keys.client, { canary: 2, canaryWeight: 50 });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('PERMISSION_DENIED');
    expect((await call('POST', '/admin/api/api-keys', keys.operator, { name: 'x', role: 'admin' })).status).toBe(403);
    // Probes and the OIP server endpoints stay open for load balancers.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/v2/health/live`)).status).toBe(200);
    // A client sees the overview, and who it is.
    expect((await call('GET', '/admin/api/session', keys.client)).body).toMatchObject({ auth: 'on', role: 'client' });
    expect((await call('GET', '/admin/api/overview', keys.client)).status).toBe(200);
    expect((await call('GET', '/admin/api/models', keys.client)).status).toBe(403);

    const audit = (await call('GET', '/admin/api/audit?limit=500', keys.operator)).body.events as Array<{ action: string; actor: string }>;
    expect(audit.filter((e) => e.actor.endsWith(':ops')).map((e) => e.action)).toEqual(['label.set']);
    expect(audit.filter((e) => e.action === 'api_key.create' && e.actor !== 'system').length).toBe(2);
    expect(audit.some((e) => e.action === 'rollout.set')).toBe(false);
  });

  it('documents the admin API in the OpenAPI document, with bearer auth', async () => {
    const doc = (await (await fetch(`${url}/docs-json`)).json()) as any;
    for (const path of ['/admin/api/models', '/admin/api/models/{model}/rollout', '/admin/api/models/{model}/versions', '/admin/api/metrics', '/admin/api/audit', '/admin/api/api-keys']) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(doc.paths['/admin/api/models/{model}/versions'].post.requestBody.content['multipart/form-data']).toBeDefined();
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    // Every operation documents the taxonomy's error body.
    expect(doc.components.schemas.Error.properties).toMatchObject({ error: { type: 'string' }, code: { type: 'string' } });
    expect(doc.paths['/v1/models/{model}:classify'].post.responses.default.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
  });

  it('asks for a key over gRPC too', async () => {
    const root = loadGrpcObject(['gateway']) as any;
    const gw = new root.servable.gateway.v1.GatewayService(grpcUrl, grpc.credentials.createInsecure(), GRPC_CHANNEL_OPTIONS);
    const classifyOver = (metadata: grpc.Metadata) =>
      new Promise<any>((res, rej) => gw.classify({ modelSpec: { name: 'spam' }, texts: ['hi'] }, metadata, (err: Error | null, reply: unknown) => (err ? rej(err) : res(reply))));
    try {
      await expect(classifyOver(new grpc.Metadata())).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${keys.client}`);
      expect((await classifyOver(md)).modelVersion).toBe('1');
    } finally {
      gw.close();
    }
  });

  it('lets a client key tokenize and read the catalog the playground needs, and nothing without a key', async () => {
    const tokenized = await call('POST', '/v1/models/spam:tokenize', keys.client, { texts: ['free money'] });
    expect(tokenized.status).toBe(200);
    expect(tokenized.body.model_version).toBe('1');
    expect((await call('POST', '/v1/models/spam:tokenize', undefined, { texts: ['free money'] })).status).toBe(401);
    const catalog = await call('GET', '/admin/api/catalog', keys.client);
    expect(catalog.status).toBe(200);
    const spam = catalog.body.find((m: { name: string }) => m.name === 'spam');
    expect(spam.versions.map((v: { version: number; state: string }) => [v.version, v.state])).toEqual([
      [1, 'AVAILABLE'],
      [2, 'AVAILABLE'],
    ]);
    expect(spam.versions[0]).toMatchObject({ labels: ['stable'], pinned: true, maxLength: MAX_LENGTH, classLabels: ['ham', 'spam'] });
    expect(spam.versions[0].tokenizerHash).toMatch(/^[0-9a-f]{64}$/);
    // The operator's view keeps what a client has no need for.
    expect(spam.versions[0].artifactPath).toBeUndefined();
    expect((await call('GET', '/admin/api/catalog', undefined)).status).toBe(401);
  });

  it('refuses a label or canary on a version that is not AVAILABLE', async () => {
    plane.states.set(2, 'LOADING');
    await gateway.controlPlane.registry.setState('spam', 2, 'LOADING');
    try {
      const label = await call('PUT', '/admin/api/models/spam/labels', keys.operator, { labels: { stable: 2 } });
      expect(label.status).toBe(409);
      expect(label.body.error).toMatch(/AVAILABLE/);
      expect((await call('PUT', '/admin/api/models/spam/rollout', keys.operator, { canary: 2, canaryWeight: 10 })).status).toBe(409);
    } finally {
      plane.states.set(2, 'AVAILABLE');
      await gateway.controlPlane.registry.setState('spam', 2, 'AVAILABLE');
    }
  });

  it('splits 10,000 requests 10% to a 10% canary (± 1.5%)', async () => {
    await setRollout({ canary: 2, canaryWeight: 10, sticky: false });
    const served = await pool(10_000, 64, () => versionServed());
    const share = served.filter((v) => v === 2).length / served.length;
    console.log(`10% canary: ${(share * 100).toFixed(2)}% of ${served.length} requests went to v2`);
    expect(share).toBeGreaterThan(0.085);
    expect(share).toBeLessThan(0.115);
  }, 120_000);

  it('keeps a sticky key on its version, and moving 10% → 20% moves only keys to the canary', async () => {
    await setRollout({ canary: 2, canaryWeight: 10, sticky: true });
    const keysOf = Array.from({ length: 300 }, (_, i) => `user-${i}`);
    const at10 = await pool(keysOf.length, 32, (i) => versionServed({ 'x-servable-route-key': keysOf[i] }));
    const again = await pool(keysOf.length, 32, (i) => versionServed({ 'x-servable-route-key': keysOf[i] }));
    expect(again).toEqual(at10);
    await setRollout({ canary: 2, canaryWeight: 20, sticky: true });
    const at20 = await pool(keysOf.length, 32, (i) => versionServed({ 'x-servable-route-key': keysOf[i] }));
    at10.forEach((v, i) => {
      if (v === 2) expect(at20[i]).toBe(2);
    });
    const moved = at20.filter((v, i) => v !== at10[i]).length;
    expect(moved).toBeGreaterThan(0);
    expect(moved / keysOf.length).toBeLessThan(0.2);
  }, 60_000);

  it('routes a cohort header to its version, and an explicit pin still wins', async () => {
    await setRollout({ canary: 2, canaryWeight: 0, cohortRules: [{ header: 'x-cohort', value: 'beta', version: 2 }] });
    expect(await versionServed({ 'x-cohort': 'beta' })).toBe(2);
    expect(await versionServed({ 'x-cohort': 'BETA' })).toBe(1);
    expect(await versionServed()).toBe(1);
    expect(await versionServed({ 'x-cohort': 'beta', 'x-servable-version': '1' })).toBe(1);
  });

  it('mirrors a share to the shadow, discards its answer and records agreement and latency', async () => {
    const from = new Date(Date.now() - 20_000).toISOString();
    await setRollout({ shadow: { version: 2, share: 100 } });
    // A shadow only gets traffic while AVAILABLE: start once the routing table says so.
    const table = gateway.app.get(RoutingTable);
    await waitFor('the shadow in the routing table', async () => {
      await table.refresh();
      return !!table.get('spam')?.rollout?.shadow && !!table.get('spam')?.available.includes(2);
    }, 10_000, 50);
    const predictsBefore = plane.seen.filter((s) => s.method === 'predict').length;
    for (let i = 0; i < 20; i++) expect(await versionServed()).toBe(1);
    await waitFor('20 shadow predictions', () => plane.seen.filter((s) => s.method === 'predict').length >= predictsBefore + 40, 15_000, 50).catch((err: Error) => {
      throw new Error(`${err.message}: ${plane.seen.filter((s) => s.method === 'predict').length - predictsBefore} predicts for 20 requests; routing ${JSON.stringify(table.get('spam'))}`);
    });
    await waitFor('20 shadow requests in the metrics', async () => {
      const { series } = (await call('GET', `/admin/api/metrics?model=spam&version=2&from=${from}&step=10`, keys.operator)).body;
      return series[0]?.points.reduce((n: number, p: any) => n + p.shadowRequests, 0) >= 20;
    }, 10_000, 50);
    const { series } = (await call('GET', `/admin/api/metrics?model=spam&version=2&from=${from}&step=10`, keys.operator)).body;
    const points = series[0].points.filter((p: any) => p.shadowRequests > 0);
    // The fake model scores every version alike, so the shadow always agrees.
    expect(points.every((p: any) => p.shadowAgreement === 1 && p.shadowMeanLatencyMs > 0)).toBe(true);
    // Prometheus sees the same: rows compared with the shadow, all agreeing, and its requests by result.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const agreed = Number(/^servable_gateway_compared_rows_total\{model="spam",version="2",kind="shadow",result="agree"\} (\d+)$/m.exec(metrics)?.[1]);
    expect(agreed).toBeGreaterThanOrEqual(20);
    expect(metrics).toMatch(/^servable_gateway_compared_rows_total\{model="spam",version="2",kind="shadow",result="disagree"\} 0$/m);
    expect(metrics).toMatch(/^servable_gateway_shadow_requests_total\{model="spam",version="2",code="OK"\} [1-9]\d*$/m);
  });

  it('promotes the canary and rolls back, each in the audit log', async () => {
    await setRollout({ canary: 2, canaryWeight: 30 });
    const promoted = await call('POST', '/admin/api/models/spam/rollout/promote', keys.operator);
    expect(promoted.status).toBe(200);
    await gateway.app.get(RoutingTable).refresh();
    expect((await call('GET', '/admin/api/models/spam', keys.operator)).body.labels.stable).toBe(2);
    expect(await versionServed()).toBe(2);
    expect((await call('POST', '/admin/api/models/spam/rollout/rollback', keys.operator)).body.code).toBe('FAILED_PRECONDITION');
    const actions = (await call('GET', '/admin/api/audit?target=model:spam&limit=3', keys.operator)).body.events.map((e: any) => e.action);
    expect(actions[0]).toBe('rollout.promote');
  });

  it('writes metric rows that add up to the requests served', async () => {
    await call('DELETE', '/admin/api/models/spam/rollout', keys.operator);
    await call('PUT', '/admin/api/models/spam/labels', keys.operator, { labels: { stable: 1 } });
    await gateway.app.get(RoutingTable).refresh();
    const from = Date.now();
    await new Promise((r) => setTimeout(r, 10)); // requests start strictly after `from`
    const sum = async () => {
      const { series } = (await call('GET', `/admin/api/metrics?model=spam&from=${from - (from % 10_000)}&step=10`, keys.operator)).body;
      const out: Record<string, number> = {};
      for (const s of series) out[s.version] = s.points.reduce((n: number, p: any) => n + p.requests, 0);
      return out;
    };
    await gateway.controlPlane.metrics.flush(); // what earlier tests recorded is in the rows before we count
    const before = await sum();
    await pool(150, 16, (i) => versionServed(i % 3 === 0 ? { 'x-servable-version': '2' } : {}));
    await waitFor('metric rows adding up to 100 + 50', async () => {
      const now = await sum();
      return (now['1'] ?? 0) - (before['1'] ?? 0) === 100 && (now['2'] ?? 0) - (before['2'] ?? 0) === 50;
    }, 10_000, 50);
  });

  it('merges concurrent Encodes into fewer calls, sends the Predicts as items of one stream, and gives each request its own answer', async () => {
    const count = (method: string) => plane.seen.filter((c) => c.method === method).length;
    plane.predictDelayMs = 50;
    try {
      const before = { encode: count('encode'), predict: count('predict'), messages: plane.streamMessages };
      const texts = Array.from({ length: 24 }, (_, i) => (i % 2 ? `free free offer number ${i}` : `lunch at ${i}`));
      const replies = await Promise.all(texts.map((text) => call('POST', '/v1/models/spam/versions/1:classify', keys.client, { texts: [text, 'free'] })));
      replies.forEach((r, i) => {
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(r.body.predictions).toHaveLength(2);
        expect(r.body.predictions[0].scores.spam).toBeCloseTo(fakeSpamProbability(fakeEncode(texts[i])), 5);
        expect(r.body.predictions[1].scores.spam).toBeCloseTo(fakeSpamProbability(fakeEncode('free')), 5);
      });
      // One Predict per request, answered on its own; those that reached the gateway in the same turn
      // left in one message of the stream.
      expect(count('predict') - before.predict).toBe(24);
      expect(plane.streamMessages - before.messages).toBeLessThan(24);
      // At most DOWNSTREAM_MAX_IN_FLIGHT (1) Encode per tokenizer replica is out at once, plus one early
      // call once DOWNSTREAM_EARLY_CALL_ROWS (32) rows wait; the rest wait and leave together.
      expect(count('encode') - before.encode).toBeLessThanOrEqual(24);
    } finally {
      plane.predictDelayMs = 0;
    }
  });
});
