/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of the protocols under test */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpcClients, unary } from './support/grpc-client';
import { manifestOf, modelVersions, startPlatform, type Platform } from './support/platform';
import { waitFor } from '@servable/observability/testing';

const TEXTS = [
  'Congratulations! You have WON a FREE cruise. Click here now to claim your prize, limited offer!!!',
  'Hi Tom, can we move tomorrow\'s meeting to 3pm? I will bring the quarterly numbers.',
];
// Everyday messages a new user would try first. They are probes, never training
// data: the trainer learns only from the SpamAssassin corpus (docs/model.md).
const EVERYDAY = {
  ham: ['Can you send me the slides from yesterday?', 'Could you review the draft before Friday?', 'What time does the train leave on Sunday?', 'Thanks, see you tomorrow.'],
  spam: [
    'Congratulations! You have won a free cruise. Click here to claim your prize now!',
    'Earn $5000 a week working from home, no experience needed.',
    'Lowest mortgage rates guaranteed, apply today.',
    'Buy cheap Viagra online, no prescription required!',
  ],
};
const TOLERANCE = 4; // decimal digits: the same model on the same backend, so differences are float noise

describe('gateway end to end (tokenizer + inference + gateway processes)', () => {
  const versions = modelVersions();
  const oldest = versions[0];
  const latest = versions.at(-1)!;
  const manifest = manifestOf(latest);
  let platform: Platform;
  let clients: ReturnType<typeof grpcClients>;

  beforeAll(async () => {
    // The protocols are under test here, not auth (control-plane.e2e.spec.ts covers keys): dev mode.
    platform = await startPlatform({ SERVABLE_AUTH: 'off', MAX_TEXTS_PER_REQUEST: '8', MAX_BODY_BYTES: '65536' });
    clients = grpcClients(platform.grpcUrl, platform.tokenizerUrl);
    // A label may only point at an AVAILABLE version: wait for the control plane to see both loaded.
    await waitFor('v1 and v2 AVAILABLE', async () => {
      const model = (await (await fetch(`${platform.url}/admin/api/models/spam`)).json()) as any;
      return model.versions.every((v: any) => v.state === 'AVAILABLE');
    }, 60_000);
    const labelled = await fetch(`${platform.url}/admin/api/models/spam/labels`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ labels: { canary: oldest } }),
    });
    expect(labelled.status).toBe(200);
    // Applied through LISTEN/NOTIFY (or the 500 ms poll) within a second.
    await waitFor('the canary label applied', async () => (await fetch(`${platform.url}/v1/models/spam/labels/canary`)).status === 200, 60_000);
  });

  afterAll(async () => {
    clients?.close();
    await platform?.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${platform.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const get = async (path: string) => {
    const res = await fetch(`${platform.url}${path}`);
    return { status: res.status, body: (await res.json()) as any };
  };
  const encode = async (texts: string[]) => {
    const reply = await unary(clients.tokenizer!, 'encode', { tokenizerHash: manifest.tokenizer.hash, texts, maxLength: manifest.max_length });
    const values = new Int32Array(Uint8Array.from(reply.ids.values).buffer);
    const rows: number[][] = [];
    let offset = 0;
    for (const length of reply.ids.rowLengths) {
      rows.push([...values.subarray(offset, offset + length)]);
      offset += length;
    }
    return rows;
  };

  let reference: number[][] = [];

  it('classifies texts (product shape) with the latest version, its tokenizer and timing headers', async () => {
    const res = await post('/v1/models/spam:classify', { texts: TEXTS }, { 'x-request-id': 'e2e-classify' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.model_version).toBe(String(latest));
    expect(body.tokenizer).toBe(manifest.tokenizer.hash);
    expect(body.predictions.map((p: any) => p.label)).toEqual(['spam', 'ham']);
    for (const p of body.predictions) expect(Object.values(p.scores as Record<string, number>).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    reference = body.predictions.map((p: any) => manifest.labels.map((l) => p.scores[l]));
    expect(res.headers.get('x-request-id')).toBe('e2e-classify');
    for (const h of ['x-model-version', 'x-tokenizer', 'x-tokenization-time', 'x-queue-time', 'x-inference-time', 'x-total-time']) expect(res.headers.get(h)).toBeTruthy();
  });

  it.each(versions)('labels everyday messages of both kinds right with v%i', async (version) => {
    const texts = [...EVERYDAY.ham, ...EVERYDAY.spam];
    const res = await post(`/v1/models/spam/versions/${version}:classify`, { texts });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.model_version).toBe(String(version));
    const labelled = Object.fromEntries(texts.map((t, i) => [t, body.predictions[i].label]));
    expect(labelled).toEqual(Object.fromEntries([...EVERYDAY.ham.map((t) => [t, 'ham']), ...EVERYDAY.spam.map((t) => [t, 'spam'])]));
  });

  it("answers TF Serving's classify shape for examples", async () => {
    const res = await post('/v1/models/spam:classify', { examples: TEXTS.map((text) => ({ text })) });
    const body = (await res.json()) as any;
    expect(res.status).toBe(200);
    expect(body.result).toHaveLength(2);
    expect(body.result[0].map((pair: [string, number]) => pair[0])).toEqual(manifest.labels);
    expect(body.result[0].map((pair: [string, number]) => pair[1])[1]).toBeCloseTo(reference[0][1], TOLERANCE);
  });

  it('predicts in row and columnar format, from text and from ids, with the same numbers', async () => {
    const ids = await encode(TEXTS);
    const rowText = (await (await post('/v1/models/spam:predict', { instances: TEXTS })).json()) as any;
    const colText = (await (await post('/v1/models/spam:predict', { inputs: { text: TEXTS } })).json()) as any;
    const rowIds = (await (await post('/v1/models/spam:predict', { instances: ids.map((input_ids) => ({ input_ids })) }, { 'x-servable-tokenizer': manifest.tokenizer.hash })).json()) as any;
    const colIds = (await (await post('/v1/models/spam:predict', { inputs: { input_ids: ids }, tokenizer: manifest.tokenizer.hash })).json()) as any;
    for (const rows of [rowText.predictions, colText.outputs, rowIds.predictions, colIds.outputs]) {
      expect(rows).toHaveLength(2);
      rows.forEach((row: number[], i: number) => row.forEach((p, c) => expect(p).toBeCloseTo(reference[i][c], TOLERANCE)));
    }
  });

  it('cuts a text over max_length to its first ids, says so on every API, and refuses it with "truncate": false', async () => {
    const long = 'Could you review the draft before Friday? '.repeat(120);
    const res = await post('/v1/models/spam:classify', { texts: [long, TEXTS[1]] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.predictions.map((p: any) => p.truncated)).toEqual([true, false]);
    expect(res.headers.get('x-servable-truncated')).toBe('0');
    // What the model read: the tokenizer's first max_length ids, the same numbers as those ids sent as they are.
    const [cut] = await encode([long]);
    expect(cut).toHaveLength(manifest.max_length);
    const fromIds = (await (await post('/v1/models/spam:predict', { instances: [{ input_ids: cut }] }, { 'x-servable-tokenizer': manifest.tokenizer.hash })).json()) as any;
    manifest.labels.forEach((l, c) => expect(body.predictions[0].scores[l]).toBeCloseTo(fromIds.predictions[0][c], TOLERANCE));
    const tfServing = await post('/v1/models/spam:predict', { instances: [TEXTS[0], long] });
    expect(tfServing.status).toBe(200);
    expect(tfServing.headers.get('x-servable-truncated')).toBe('1');
    const refused = await post('/v1/models/spam:classify', { texts: [TEXTS[0], long], truncate: false });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as any).error).toMatch(new RegExp(`^texts\\[1\\] is longer than spam version ${latest}'s max_length of ${manifest.max_length} ids`));
  });

  it('serves model status and metadata', async () => {
    const status = await get('/v1/models/spam');
    expect(status.status).toBe(200);
    expect(status.body.model_version_status.map((s: any) => s.version)).toEqual(versions.map(String));
    expect(status.body.model_version_status.every((s: any) => s.state === 'AVAILABLE')).toBe(true);
    const one = await get(`/v1/models/spam/versions/${oldest}`);
    expect(one.body.model_version_status).toHaveLength(1);
    expect((await get('/v1/models/spam/labels/canary')).body.model_version_status[0].version).toBe(String(oldest));
    const meta = await get('/v1/models/spam/metadata');
    expect(meta.body.model_spec).toMatchObject({ name: 'spam', version: String(latest) });
    expect(meta.body.metadata.signature_def.signature_def.serving_default.inputs.input_ids.dtype).toBe('DT_INT32');
    expect(meta.body.tokenizer.hash).toBe(manifest.tokenizer.hash);
    expect((await get(`/v1/models/spam/versions/${oldest}/metadata`)).body.model_spec.version).toBe(String(oldest));
  });

  it('serves every OIP v2 endpoint', async () => {
    expect((await get('/v2')).body).toMatchObject({ name: 'servable' });
    expect((await get('/v2/health/live')).status).toBe(200);
    expect((await get('/v2/health/ready')).status).toBe(200);
    const meta = await get('/v2/models/spam');
    expect(meta.body).toMatchObject({ name: 'spam', versions: versions.map(String) });
    expect(meta.body.outputs[0]).toMatchObject({ name: 'probabilities', datatype: 'FP32' });
    expect((await get(`/v2/models/spam/versions/${oldest}`)).status).toBe(200);
    expect((await get('/v2/models/spam/ready')).body.ready).toBe(true);
    expect((await get(`/v2/models/spam/versions/${oldest}/ready`)).body.ready).toBe(true);

    const texts = (await (await post('/v2/models/spam/infer', { id: 'r1', inputs: [{ name: 'text', shape: [2], datatype: 'BYTES', data: TEXTS }] })).json()) as any;
    expect(texts).toMatchObject({ model_name: 'spam', model_version: String(latest), id: 'r1' });
    expect(texts.outputs[0]).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [2, 2] });
    texts.outputs[0].data.forEach((p: number, k: number) => expect(p).toBeCloseTo(reference[Math.floor(k / 2)][k % 2], TOLERANCE));

    const ids = await encode(TEXTS);
    const seq = Math.max(...ids.map((r) => r.length));
    const padded = ids.flatMap((r) => [...r, ...Array(seq - r.length).fill(manifest.tokenizer.pad_id)]);
    const byIds = (await (await post(`/v2/models/spam/versions/${latest}/infer`, { inputs: [{ name: 'input_ids', shape: [2, seq], datatype: 'INT32', data: padded }] })).json()) as any;
    byIds.outputs[0].data.forEach((p: number, k: number) => expect(p).toBeCloseTo(reference[Math.floor(k / 2)][k % 2], TOLERANCE));
  });

  it('serves gRPC Classify and OIP ModelInfer, ModelReady and ServerReady with the same predictions as REST', async () => {
    const classified = await unary(clients.gateway, 'classify', { modelSpec: { name: 'spam' }, texts: TEXTS });
    expect(classified.modelVersion).toBe(String(latest));
    expect(classified.tokenizer).toBe(manifest.tokenizer.hash);
    classified.predictions.forEach((p: any, i: number) => manifest.labels.forEach((l, c) => expect(p.scores[l]).toBeCloseTo(reference[i][c], TOLERANCE)));

    const inferred = await unary(clients.oip, 'modelInfer', {
      modelName: 'spam',
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [2], contents: { bytesContents: TEXTS.map((t) => Buffer.from(t)) } }],
    });
    expect(inferred.modelVersion).toBe(String(latest));
    inferred.outputs[0].contents.fp32Contents.forEach((p: number, k: number) => expect(p).toBeCloseTo(reference[Math.floor(k / 2)][k % 2], TOLERANCE));
    expect((await unary(clients.oip, 'modelReady', { name: 'spam', version: String(oldest) })).ready).toBe(true);
    expect((await unary(clients.oip, 'serverReady', {})).ready).toBe(true);
    const missing = await unary(clients.gateway, 'classify', { modelSpec: { name: 'nope' }, texts: ['a'] }).catch((e) => e);
    expect(missing.code).toBe(grpc.status.NOT_FOUND);
  });

  it.each([
    ['malformed JSON', '/v1/models/spam:classify', '{"texts": ["a",', {}, 400, 'INVALID_ARGUMENT'],
    ['both instances and inputs', '/v1/models/spam:predict', { instances: ['a'], inputs: ['a'] }, {}, 400, 'INVALID_ARGUMENT'],
    ['the wrong dtype', '/v2/models/spam/infer', { inputs: [{ name: 'input_ids', shape: [1, 2], datatype: 'FP32', data: [1.5, 2.5] }] }, {}, 400, 'INVALID_ARGUMENT'],
    ['float ids', '/v1/models/spam:predict', { instances: [[101.5, 7]] }, {}, 400, 'INVALID_ARGUMENT'],
    ['an unknown model', '/v1/models/nope:classify', { texts: ['a'] }, {}, 404, 'NOT_FOUND'],
    ['an unknown version', '/v1/models/spam/versions/999:classify', { texts: ['a'] }, {}, 404, 'NOT_FOUND'],
    ['an unknown label', '/v1/models/spam/labels/nope:classify', { texts: ['a'] }, {}, 400, 'INVALID_ARGUMENT'],
    ['too many texts', '/v1/models/spam:classify', { texts: Array.from({ length: 9 }, () => 'a') }, {}, 400, 'INVALID_ARGUMENT'],
    ['an oversized body', '/v1/models/spam:classify', { texts: ['x'.repeat(70_000)] }, {}, 413, 'INVALID_ARGUMENT'],
    ['a tokenizer mismatch', '/v1/models/spam:predict', { instances: [[2, 3]] }, { 'x-servable-tokenizer': '0'.repeat(64) }, 409, 'FAILED_PRECONDITION'],
  ])('answers %s with its code', async (_what, path, body, headers, status, code) => {
    const res = await post(path as string, body, headers as Record<string, string>);
    expect(res.status).toBe(status);
    const json = (await res.json()) as any;
    expect(json.code).toBe(code);
    expect(typeof json.error).toBe('string');
    if (code === 'FAILED_PRECONDITION') expect(json.error).toContain(manifest.tokenizer.hash);
  });

  it("logs a failed call in the tokenizer's own log with the caller's x-request-id and traceparent", async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const metadata = new grpc.Metadata();
    metadata.set('x-request-id', 'e2e-empty-text');
    metadata.set('traceparent', traceparent);
    const err = await unary(clients.tokenizer!, 'encode', { tokenizerHash: manifest.tokenizer.hash, texts: [''], maxLength: manifest.max_length }, metadata).catch((e) => e);
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    const logged = () =>
      readFileSync(join(platform.logDir, 'tokenizer.log'), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l))
        .find((l) => l.requestId === 'e2e-empty-text');
    await waitFor('the failed Encode in the tokenizer log', () => logged() !== undefined, 10_000);
    expect(logged()).toMatchObject({ level: 40, traceparent, code: 'INVALID_ARGUMENT', method: '/servable.tokenizer.v1.TokenizerService/Encode' });
  });

  it('answers 503 within the deadline while inference is stopped, and recovers once it is back', async () => {
    await platform.stop('inference');
    const t0 = Date.now();
    const res = await post(`/v1/models/spam/versions/${latest}:classify`, { texts: TEXTS });
    expect(res.status).toBe(503);
    expect(((await res.json()) as any).code).toBe('UNAVAILABLE');
    expect(Date.now() - t0).toBeLessThan(5_000);
    // Unready once the gateway's health checks (every second) find no inference replica SERVING.
    await waitFor('/readyz 503', async () => (await get('/readyz')).status === 503, 5_000);
    const ready = await get('/readyz');
    expect(ready.body.checks.inference.serving).toBe(0);
    expect(ready.body.checks.inference.replicas[0].status).toBe('UNREACHABLE');
    expect(ready.body.checks.tokenizer.serving).toBe(1);

    await platform.start('inference');
    // Inference answers its own /readyz before the gateway's next health check (every second) has
    // seen it SERVING; until then the gateway rightly answers 503. Recovery is the gateway ready again.
    await waitFor('/readyz 200', async () => (await get('/readyz')).status === 200, 10_000);
    const again = await post('/v1/models/spam:classify', { texts: TEXTS });
    expect(again.status).toBe(200);
    expect(((await again.json()) as any).predictions.map((p: any) => p.label)).toEqual(['spam', 'ham']);
  });
});
