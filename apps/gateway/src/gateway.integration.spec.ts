/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of the protocols under test */
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRPC_CHANNEL_OPTIONS, loadGrpcObject } from '@servable/contracts/grpc';
import { waitFor } from '@servable/observability/testing';
import { RoutingTable } from './control-plane/routing-table.service';
import type { RunningGateway } from './gateway-server';
import { HASH_V1, HASH_V2, MAX_LENGTH, fakeEncode, fakeSpamProbability, type FakeDataPlane } from './testing/fake-data-plane';
import { startTestGateway, type TestGateway } from './testing/test-gateway';

process.env['LOG_LEVEL'] ??= 'warn';

const SPAMMY = 'free free money';
const HAMMY = 'lunch at noon';
const spamOf = (text: string) => fakeSpamProbability(fakeEncode(text));

describe('gateway over REST and gRPC (fake data plane)', () => {
  let plane: FakeDataPlane;
  let gateway: RunningGateway;
  let url: string;
  let grpcUrl: string;
  let testGateway: TestGateway;
  let consoleDir: string;

  beforeAll(async () => {
    // A stand-in console build, so /admin is served whether or not apps/admin was built.
    consoleDir = mkdtempSync(join(tmpdir(), 'servable-console-'));
    writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><title>console</title>');
    testGateway = await startTestGateway({
      ADMIN_STATIC_DIR: consoleDir,
      SERVABLE_AUTH: 'off',
      MAX_TEXTS_PER_REQUEST: '4',
      MAX_BODY_BYTES: '2048',
      MAX_CONCURRENT_REQUESTS: '2',
    });
    ({ plane, gateway, url, grpcUrl } = testGateway);
    await gateway.controlPlane.registry.setLabels('spam', { stable: 1, canary: 2 }, 'test');
    await gateway.app.get(RoutingTable).refresh();
  });

  afterAll(async () => {
    await testGateway?.close();
    if (consoleDir) rmSync(consoleDir, { recursive: true, force: true });
  });

  const grpcHealth = async (service: string): Promise<string> => {
    const client = new (loadGrpcObject(['health']) as any).grpc.health.v1.Health(grpcUrl, grpc.credentials.createInsecure());
    try {
      return await new Promise<string>((res, rej) => client.check({ service }, (err: Error | null, reply: { status: string }) => (err ? rej(err) : res(reply.status))));
    } finally {
      client.close();
    }
  };

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body) });

  it('classifies texts with the stable version, its pinned tokenizer and timing headers', async () => {
    const res = await post('/v1/models/spam:classify', { texts: [SPAMMY, HAMMY] }, { 'x-request-id': 'req-classify-1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    expect(res.status).toBe(200);
    const body = await res.json() as any;
    expect(body.model_version).toBe('1');
    expect(body.tokenizer).toBe(HASH_V1);
    expect(body.predictions.map((p: { label: string }) => p.label)).toEqual(['spam', 'ham']);
    expect(body.predictions[0].scores.spam).toBeCloseTo(spamOf(SPAMMY), 5);
    for (const h of ['x-model-version', 'x-tokenizer', 'x-tokenization-time', 'x-queue-time', 'x-inference-time', 'x-total-time']) expect(res.headers.get(h)).toBeTruthy();
    expect(res.headers.get('x-request-id')).toBe('req-classify-1');
    const hops = plane.seen.filter((s) => s.requestId === 'req-classify-1');
    expect(hops.map((s) => s.method).sort()).toEqual(['encode', 'predict']);
    expect(hops.every((s) => s.traceparent === '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).toBe(true);
    // The 5 s default deadline travels with the calls.
    expect(hops[0].deadline! - Date.now()).toBeGreaterThan(3_000);
  });

  it("answers TF Serving's classify shape for examples", async () => {
    const res = await post('/v1/models/spam/versions/2:classify', { examples: [{ text: SPAMMY }] });
    expect(res.status).toBe(200);
    const body = await res.json() as any;
    expect(body.result[0][0][0]).toBe('ham');
    expect(body.result[0][1][0]).toBe('spam');
    expect(body.result[0][1][1]).toBeCloseTo(spamOf(SPAMMY), 5);
    expect(res.headers.get('x-model-version')).toBe('2');
    // TF Serving's other ways to write it: a shared "context", a list of one value, base64 bytes.
    const shared = await (await post('/v1/models/spam/versions/2:classify', { context: { text: SPAMMY }, examples: [{}, { text: [HAMMY] }, { text: { b64: Buffer.from(SPAMMY).toString('base64') } }] })).json() as any;
    expect(shared.result.map((r: [string, number][]) => r[1][1] > 0.5)).toEqual([true, false, true]);
    const none = await post('/v1/models/spam/versions/2:classify', { examples: [{ id: 7 }] });
    expect(none.status).toBe(400);
    expect((await none.json() as any).error).toBe('examples[0] must have one "text" feature with a single string value');
  });

  it('resolves the version: path, then the pin header, then the stable label', async () => {
    const version = async (path: string, headers: Record<string, string> = {}) => (await (await post(path, { texts: ['x'] }, headers)).json() as any).model_version;
    expect(await version('/v1/models/spam:classify')).toBe('1');
    expect(await version('/v1/models/spam:classify', { 'x-servable-version': '2' })).toBe('2');
    expect(await version('/v1/models/spam:classify', { 'x-servable-version': 'canary' })).toBe('2');
    expect(await version('/v1/models/spam/versions/1:classify', { 'x-servable-version': '2' })).toBe('1');
    expect(await version('/v1/models/spam/labels/canary:classify')).toBe('2');
  });

  it('predicts in row and columnar format, from texts and from ids', async () => {
    const ids = fakeEncode(SPAMMY);
    const rows = await (await post('/v1/models/spam:predict', { instances: [SPAMMY, HAMMY] })).json() as any;
    expect(rows.predictions).toHaveLength(2);
    expect(rows.predictions[0][1]).toBeCloseTo(spamOf(SPAMMY), 5);
    const cols = await (await post('/v1/models/spam:predict', { inputs: { input_ids: [ids] } })).json() as any;
    expect(cols.outputs[0][1]).toBeCloseTo(spamOf(SPAMMY), 5);
    const objects = await (await post('/v1/models/spam:predict', { instances: [{ input_ids: ids }], tokenizer: HASH_V1 })).json() as any;
    expect(objects.predictions[0][1]).toBeCloseTo(spamOf(SPAMMY), 5);
    for (const signature_name of ['serving_default', '']) {
      const named = await (await post('/v1/models/spam:predict', { signature_name, instances: [{ input_ids: ids }], tokenizer: HASH_V1 })).json() as any;
      expect(named.predictions[0][1]).toBeCloseTo(spamOf(SPAMMY), 5);
    }
  });

  it.each([
    ['malformed JSON', '/v1/models/spam:classify', '{"texts": [', 400, 'INVALID_ARGUMENT'],
    ['both instances and inputs', '/v1/models/spam:predict', { instances: ['a'], inputs: ['a'] }, 400, 'INVALID_ARGUMENT'],
    ['ids of the wrong dtype', '/v1/models/spam:predict', { instances: [[1.5, 2]] }, 400, 'INVALID_ARGUMENT'],
    ['an unknown model', '/v1/models/nope:classify', { texts: ['a'] }, 404, 'NOT_FOUND'],
    ['an unknown version', '/v1/models/spam/versions/9:classify', { texts: ['a'] }, 404, 'NOT_FOUND'],
    // TF Serving: 400 "Unrecognized servable version label" (a version is a resource, a label is configuration).
    ['an unknown label', '/v1/models/spam/labels/nope:classify', { texts: ['a'] }, 400, 'INVALID_ARGUMENT', 'Unrecognized servable version label: nope'],
    // Not a property every object has: "constructor" was read off Object.prototype ("no version function Object()").
    // Text that is not Unicode: it was classified as U+FFFDs (TEI answers 422).
    ['a lone surrogate', '/v1/models/spam:classify', { texts: ['a\ud800b'] }, 400, 'INVALID_ARGUMENT', 'texts[0] is not valid Unicode'],
    ['a body that is not UTF-8', '/v1/models/spam:classify', Buffer.concat([Buffer.from('{"texts": ["caf'), Buffer.from([0xe9]), Buffer.from('"]}')]), 400, 'INVALID_ARGUMENT', 'the body is not valid UTF-8'],
    ['bytes that are not base64', '/v1/models/spam:classify', { examples: [{ text: { b64: '!!!' } }] }, 400, 'INVALID_ARGUMENT', 'is not valid base64'],
    ['base64 of bytes that are not UTF-8', '/v1/models/spam:classify', { examples: [{ text: { b64: '//79' } }] }, 400, 'INVALID_ARGUMENT', 'is not valid UTF-8'],
    // A tokenizer hash of the wrong type asked for a check and skipped it (200).
    ['a tokenizer that is not a string (predict)', '/v1/models/spam:predict', { instances: [[5, 6]], tokenizer: 123 }, 400, 'INVALID_ARGUMENT', 'tokenizer'],
    ['a tokenizer that is not a string (OIP)', '/v2/models/spam/infer', { inputs: [{ name: 'input_ids', shape: [1, 2], datatype: 'INT32', data: [5, 6] }], parameters: { tokenizer: 123 } }, 400, 'INVALID_ARGUMENT', 'parameters.tokenizer must be a string'],
    ['a label named like a built-in', '/v1/models/spam/labels/constructor:classify', { texts: ['a'] }, 400, 'INVALID_ARGUMENT', 'Unrecognized servable version label: constructor'],
    ['too many texts', '/v1/models/spam:classify', { texts: ['a', 'b', 'c', 'd', 'e'] }, 400, 'INVALID_ARGUMENT'],
    // A misspelt option was skipped without a word: here the request would have been served with its texts cut.
    ['an unknown field of the product body', '/v1/models/spam:classify', { texts: ['a'], truncte: false }, 400, 'INVALID_ARGUMENT', 'unknown field "truncte": this body takes "texts", "truncate" and "signature_name"'],
    ['unknown fields of :tokenize', '/v1/models/spam:tokenize', { texts: ['a'], special: false, max_length: 3 }, 400, 'INVALID_ARGUMENT', 'unknown fields "special" and "max_length": this body takes "texts" and "add_special_tokens"'],
    // A prediction of [CLS] [SEP] alone, with confidence, on every API that takes texts.
    ['a text of only whitespace', '/v1/models/spam:classify', { texts: ['ok', ' \n\t '] }, 400, 'INVALID_ARGUMENT', 'texts[1] is only whitespace'],
    ['a text of only whitespace (predict)', '/v1/models/spam:predict', { instances: ['\u00a0'] }, 400, 'INVALID_ARGUMENT', 'texts[0] is only whitespace'],
    ['an oversized body', '/v1/models/spam:classify', { texts: ['x'.repeat(4096)] }, 413, 'INVALID_ARGUMENT'],
    ['a tokenizer mismatch', '/v1/models/spam/versions/2:predict', { instances: [[5, 6]], tokenizer: HASH_V1 }, 409, 'FAILED_PRECONDITION'],
    // As TF Serving answers, and as the gRPC API already did: a version has serving_default only.
    ['a signature the model lacks (predict)', '/v1/models/spam:predict', { signature_name: 'nope', instances: ['a'] }, 400, 'INVALID_ARGUMENT', 'Serving signature name: "nope" not found'],
    // TF Serving's regress exists, but a classifier has no regression signature: 400, as gRPC Regress answers.
    ['regress on a classifier', '/v1/models/spam:regress', { examples: [{ text: 'a' }] }, 400, 'INVALID_ARGUMENT', 'Expected regression signature'],
    ['regress on an unknown model', '/v1/models/nope:regress', { examples: [{ text: 'a' }] }, 404, 'NOT_FOUND'],
    ['a signature the model lacks (classify)', '/v1/models/spam:classify', { signature_name: 'nope', examples: [{ text: 'a' }] }, 400, 'INVALID_ARGUMENT', 'Serving signature name: "nope" not found'],
  ])('answers %s with its code', async (_what, path, body, status, code, message?: string) => {
    const res = await post(path as string, body);
    expect(res.status).toBe(status);
    const json = await res.json() as any;
    expect(json.code).toBe(code);
    expect(typeof json.error).toBe('string');
    if (message) expect(json.error).toContain(message);
    if (code === 'FAILED_PRECONDITION') {
      expect(json.error).toContain(HASH_V1);
      expect(json.error).toContain(HASH_V2);
    }
  });

  it('serves the console at /admin for any client-side route, but leaves /admin/api to the API', async () => {
    const page = await fetch(`${url}/admin/models/spam`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<title>console</title>');
    const session = await fetch(`${url}/admin/api/session`);
    expect(session.status).toBe(200);
    expect(await session.json()).toMatchObject({ auth: 'off', role: 'admin' });
    const missing = await fetch(`${url}/admin/api/nope`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/json/);
  });

  it('serves status and metadata the TF Serving way', async () => {
    const status = await (await fetch(`${url}/v1/models/spam`)).json() as any;
    expect(status.model_version_status.map((s: { version: string; state: string }) => [s.version, s.state])).toEqual([['1', 'AVAILABLE'], ['2', 'AVAILABLE']]);
    const one = await (await fetch(`${url}/v1/models/spam/labels/canary`)).json() as any;
    expect(one.model_version_status).toHaveLength(1);
    expect(one.model_version_status[0]).toMatchObject({ version: '2', labels: ['canary'] });
    // GET on a POST route says so, rather than "model spam:predict not found".
    for (const path of ['/v1/models/spam:predict', '/v1/models/spam/versions/2:classify', '/v1/models/spam/labels/canary:predict']) {
      const wrong = await fetch(`${url}${path}`);
      expect(wrong.status, path).toBe(405);
      expect(((await wrong.json()) as any).error).toMatch(/takes POST/);
    }
    const meta = await (await fetch(`${url}/v1/models/spam/versions/2/metadata`)).json() as any;
    expect(meta.model_spec.version).toBe('2');
    expect(meta.metadata.signature_def.signature_def.serving_default.inputs.input_ids.dtype).toBe('DT_INT32');
    // Raw text is an input too, as gRPC GetModelMetadata says: a client that builds requests from the signature finds it.
    expect(meta.metadata.signature_def.signature_def.serving_default.inputs.text.dtype).toBe('DT_STRING');
    expect(meta.tokenizer.hash).toBe(HASH_V2);
  });

  it('speaks OIP v2 over REST', async () => {
    expect((await fetch(`${url}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
    expect((await (await fetch(`${url}/v2`)).json() as any).name).toBe('servable');
    expect((await (await fetch(`${url}/v2/models/spam/versions/2/ready`)).json() as any).ready).toBe(true);
    const meta = await (await fetch(`${url}/v2/models/spam`)).json() as any;
    expect(meta.versions).toEqual(['1', '2']);
    expect(meta.inputs.map((i: { datatype: string }) => i.datatype)).toEqual(['BYTES', 'INT32']);
    const texts = await (await post('/v2/models/spam/infer', { id: 'a', inputs: [{ name: 'text', shape: [2], datatype: 'BYTES', data: [SPAMMY, HAMMY] }] })).json() as any;
    expect(texts).toMatchObject({ model_name: 'spam', model_version: '1', id: 'a' });
    expect(texts.outputs[0]).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [2, 2] });
    expect(texts.outputs[0].data[1]).toBeCloseTo(spamOf(SPAMMY), 5);
    // Padded ids: trailing pad ids are dropped, so the answer equals the unpadded row's.
    const ids = fakeEncode(SPAMMY);
    const padded = await (await post('/v2/models/spam/versions/1/infer', { inputs: [{ name: 'input_ids', shape: [1, ids.length + 2], datatype: 'INT32', data: [...ids, 0, 0] }] })).json() as any;
    expect(padded.outputs[0].data[1]).toBeCloseTo(spamOf(SPAMMY), 5);
    const wrong = await post('/v2/models/spam/infer', { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1.5] }] });
    expect(wrong.status).toBe(400);
  });

  it('refuses a bad OIP request before anything runs, as Triton does', async () => {
    const predicts = () => plane.seen.filter((s) => s.method === 'predict').length;
    const before = predicts();
    const text = { name: 'text', shape: [1], datatype: 'BYTES', data: ['an output nobody has'] };
    // An output the model lacks, and Triton's classification extension, which is not served.
    const unknown = await post('/v2/models/spam/infer', { inputs: [text], outputs: [{ name: 'logits' }] });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as any).error).toMatch(/unexpected inference output "logits"/);
    expect(unknown.headers.get('x-model-version')).toBeNull();
    const classification = await post('/v2/models/spam/infer', { inputs: [text], outputs: [{ name: 'probabilities', parameters: { classification: 2 } }] });
    expect(((await classification.json()) as any).error).toMatch(/classification extension is not supported/);
    // [n, 0] holds no elements whatever n says: refused before n rows are laid out.
    const empty = await post('/v2/models/spam/infer', { inputs: [{ name: 'input_ids', shape: [1e9, 0], datatype: 'INT32', data: [] }] });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as any).error).toMatch(/rows of 0 ids/);
    // A wrong datatype is named as such, whatever its data.
    const fp32 = await post('/v2/models/spam/infer', { inputs: [{ name: 'input_ids', shape: [1, 2], datatype: 'FP32', data: [] }] });
    expect(((await fp32.json()) as any).error).toMatch(/datatype FP32 is not accepted/);
    // Version 0 in the path names no version; it does not mean the default one.
    expect((await post('/v2/models/spam/versions/0/infer', { inputs: [text] })).status).toBe(404);
    expect((await fetch(`${url}/v2/models/spam/versions/0/ready`)).status).toBe(404);
    expect(predicts()).toBe(before);
  });

  it('retries an UNAVAILABLE inference call once and counts it', async () => {
    plane.failNextPredicts.push(grpc.status.UNAVAILABLE);
    const res = await post('/v1/models/spam:classify', { texts: [SPAMMY] });
    expect(res.status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^servable_gateway_downstream_retries_total\{component="inference"\} 1$/m);
    expect(metrics).toMatch(/^servable_gateway_requests_total\{model="spam",version="\d+",api="product",code="OK",source="api"\} \d+/m);
    expect(metrics).toMatch(/^servable_gateway_requests_in_flight 0$/m);
  });

  it('counts requests refused before any prediction, once, so a misconfigured client shows on the error panels', async () => {
    const count = async (labels: string) => {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      return Number(new RegExp(`^servable_gateway_requests_total\\{${labels}\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);
    };
    const oipBad = 'model="spam",version="",api="oip",code="INVALID_ARGUMENT",source="api"';
    const tfBad = 'model="spam",version="",api="tfserving",code="INVALID_ARGUMENT",source="api"';
    const grpcBad = 'model="spam",version="",api="grpc_oip",code="INVALID_ARGUMENT",source="api"';
    const unknown = 'model="_unknown_",version="",api="product",code="NOT_FOUND",source="api"';
    const before = { oip: await count(oipBad), tf: await count(tfBad), grpc: await count(grpcBad), unknown: await count(unknown) };
    // Refused by the tensor check, the body schema and the JSON parser: none reaches predict.
    expect((await post('/v2/models/spam/infer', { inputs: [{ name: 'text', shape: [2], datatype: 'BYTES', data: ['a'] }] })).status).toBe(400);
    expect((await post('/v1/models/spam:predict', { instances: 5 })).status).toBe(400);
    expect((await post('/v1/models/spam:predict', '{"instances": [')).status).toBe(400);
    const root = loadGrpcObject(['oip']) as any;
    const oip = new root.inference.GRPCInferenceService(grpcUrl, grpc.credentials.createInsecure(), GRPC_CHANNEL_OPTIONS);
    try {
      const err = await new Promise<any>((res) => oip.modelInfer({ modelName: 'spam', inputs: [{ name: 'input_ids', datatype: 'FP32', shape: [1, 1], contents: { fp32Contents: [1] } }] }, res));
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    } finally {
      oip.close();
    }
    // Refused inside predict (an unknown model): counted there, not again by the filter.
    expect((await post('/v1/models/client-chosen-name:classify', { texts: ['x'] })).status).toBe(404);
    expect({ oip: await count(oipBad), tf: await count(tfBad), grpc: await count(grpcBad), unknown: await count(unknown) }).toEqual({
      oip: before.oip + 1,
      tf: before.tf + 2,
      grpc: before.grpc + 1,
      unknown: before.unknown + 1,
    });
  });

  it('counts requests for models nobody registered under _unknown_, never under the name the caller sent', async () => {
    const res = await post('/v1/models/client-chosen-name:classify', { texts: [SPAMMY] });
    expect(res.status).toBe(404);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^servable_gateway_requests_total\{model="_unknown_",version="",api="product",code="NOT_FOUND",source="api"\} [1-9]/m);
    expect(metrics).not.toMatch(/client-chosen-name/);
    expect(metrics).not.toMatch(/service="/);
  });

  it('loads a version again at once when a request finds that inference lost it', async () => {
    const state = async () => ((await (await fetch(`${url}/v1/models/spam/versions/2`)).json()) as any).model_version_status[0];
    expect((await state()).state).toBe('AVAILABLE');
    // Inference lost v2 (a restart, an unload) although the last reconcile pass saw it AVAILABLE.
    plane.states.set(2, 'END');
    plane.failNextPredicts.push(grpc.status.FAILED_PRECONDITION);
    const loadsBefore = plane.seen.filter((c) => c.method === 'loadModel').length;
    // 503 (retry), not the replica's 409 "not loaded; pin it": the version is pinned, and is being loaded again.
    const lost = await post('/v1/models/spam/versions/2:classify', { texts: [SPAMMY] });
    expect(lost.status).toBe(503);
    expect(lost.headers.get('retry-after')).toBe('1');
    // The refusal drops the replica's claim and wakes the reconcile loop, which loads v2 there again.
    await waitFor('v2 loaded again', () => plane.seen.filter((c) => c.method === 'loadModel').length > loadsBefore, 3_000);
    await waitFor('v2 AVAILABLE again', async () => (await state()).state === 'AVAILABLE', 3_000);
    expect((await state()).replicas).toEqual([{ address: plane.inferenceUrl, serving: true, state: 'AVAILABLE' }]);
    expect((await post('/v1/models/spam/versions/2:classify', { texts: [SPAMMY] })).status).toBe(200);
  });

  it('cancels the Predict of a client that went away before its answer (REST) or cancelled its call (gRPC)', async () => {
    plane.predictDelayMs = 500;
    try {
      const before = plane.cancelledItems.length;
      const gone = new AbortController();
      const sent = post('/v1/models/spam:classify', { texts: [`going away ${Date.now()}`] }, {}).catch((e: unknown) => e);
      const aborted = fetch(`${url}/v1/models/spam:classify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ texts: [`gone before the answer ${Date.now()}`] }),
        signal: gone.signal,
      }).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 150));
      gone.abort();
      expect(await aborted).toBeInstanceOf(Error);
      await waitFor('the item cancelled at inference', () => plane.cancelledItems.length > before, 2_000);
      expect(plane.cancelledItems.length - before).toBe(1);
      // The other request, still waited for, is answered.
      expect(((await sent) as Response).status).toBe(200);

      // A gRPC caller that cancels its call: the same.
      const gw = new (loadGrpcObject(['gateway']) as any).servable.gateway.v1.GatewayService(grpcUrl, grpc.credentials.createInsecure(), GRPC_CHANNEL_OPTIONS);
      try {
        const cancelledBefore = plane.cancelledItems.length;
        const done = new Promise<grpc.ServiceError>((resolve) => {
          const call = gw.classify({ modelSpec: { name: 'spam' }, texts: [`gRPC going away ${Date.now()}`] }, (err: grpc.ServiceError) => resolve(err));
          setTimeout(() => call.cancel(), 150);
        });
        expect((await done).code).toBe(grpc.status.CANCELLED);
        await waitFor('the gRPC item cancelled at inference', () => plane.cancelledItems.length > cancelledBefore, 2_000);
      } finally {
        gw.close();
      }
    } finally {
      plane.predictDelayMs = 0;
    }
  });

  it('sheds load past MAX_CONCURRENT_REQUESTS with 429 and Retry-After', async () => {
    plane.predictDelayMs = 300;
    try {
      const responses = await Promise.all(Array.from({ length: 4 }, () => post('/v1/models/spam:classify', { texts: ['a'] })));
      const refused = responses.filter((r) => r.status === 429);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused[0].headers.get('retry-after')).toBe('1');
      expect((await refused[0].json() as any).code).toBe('RESOURCE_EXHAUSTED');
    } finally {
      plane.predictDelayMs = 0;
    }
  });

  it('serves gateway.v1 Classify and OIP ModelInfer over gRPC with the same predictions', async () => {
    const root = loadGrpcObject(['gateway', 'oip']) as any;
    const gw = new root.servable.gateway.v1.GatewayService(grpcUrl, grpc.credentials.createInsecure(), GRPC_CHANNEL_OPTIONS);
    const oip = new root.inference.GRPCInferenceService(grpcUrl, grpc.credentials.createInsecure(), GRPC_CHANNEL_OPTIONS);
    const unary = (client: any, method: string, req: unknown) =>
      new Promise<any>((res, rej) => client[method](req, (err: Error | null, reply: unknown) => (err ? rej(err) : res(reply))));
    try {
      const classified = await unary(gw, 'classify', { modelSpec: { name: 'spam' }, texts: [SPAMMY, HAMMY] });
      // uint64 arrives as its decimal string (LOADER_OPTIONS longs: String).
      expect(classified.modelVersion).toBe('1');
      expect(classified.predictions[0].label).toBe('spam');
      expect(classified.predictions[0].scores.spam).toBeCloseTo(spamOf(SPAMMY), 5);
      const inferred = await unary(oip, 'modelInfer', {
        modelName: 'spam',
        inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], contents: { bytesContents: [Buffer.from(SPAMMY)] } }],
      });
      expect(inferred.outputs[0].contents.fp32Contents[1]).toBeCloseTo(spamOf(SPAMMY), 5);
      // A tokenizer hash given as another kind of parameter is refused, not skipped.
      const ids = { modelName: 'spam', inputs: [{ name: 'input_ids', datatype: 'INT32', shape: [1, 2], contents: { intContents: [5, 6] } }] };
      const typed = await unary(oip, 'modelInfer', { ...ids, parameters: { tokenizer: { int64Param: '7' } } }).catch((e) => e);
      expect(typed).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining('parameters.tokenizer must be a string_param') });
      expect((await unary(oip, 'modelInfer', { ...ids, parameters: { tokenizer: { stringParam: HASH_V1 } } })).outputs).toHaveLength(1);
      expect((await unary(oip, 'serverReady', {})).ready).toBe(true);
      // A gRPC caller's x-request-id and traceparent travel to both hops, as a REST caller's do.
      const metadata = new grpc.Metadata();
      metadata.set('x-request-id', 'req-grpc-1');
      metadata.set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
      // A text the gateway has not encoded yet: a hot one would skip the tokenizer hop (its near cache).
      await new Promise((res, rej) => gw.classify({ modelSpec: { name: 'spam' }, texts: [`${SPAMMY} over grpc`] }, metadata, (err: Error | null, reply: unknown) => (err ? rej(err) : res(reply))));
      const hops = plane.seen.filter((s) => s.requestId === 'req-grpc-1');
      expect(hops.map((s) => s.method).sort()).toEqual(['encode', 'predict']);
      expect(hops.every((s) => s.traceparent === '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).toBe(true);
      expect((await unary(oip, 'modelReady', { name: 'spam', version: '2' })).ready).toBe(true);
      const err = await unary(gw, 'classify', { modelSpec: { name: 'nope' }, texts: ['a'] }).catch((e) => e);
      expect(err.code).toBe(grpc.status.NOT_FOUND);
      // The request's id comes back as over REST: the caller's, or the one the gateway made up (and logged), on success and on failure.
      const idOf = (request: unknown, sent?: string) =>
        new Promise<{ initial?: string; trailer?: string }>((resolve) => {
          const md = new grpc.Metadata();
          if (sent) md.set('x-request-id', sent);
          let initial: string | undefined;
          const call = gw.classify(request, md, (e: grpc.ServiceError | null) => resolve({ initial, trailer: e?.metadata?.get('x-request-id')[0] as string | undefined }));
          call.on('metadata', (m: grpc.Metadata) => (initial = m.get('x-request-id')[0] as string | undefined));
        });
      expect(await idOf({ modelSpec: { name: 'spam' }, texts: [SPAMMY] }, 'req-echo-1')).toEqual({ initial: 'req-echo-1', trailer: undefined });
      expect((await idOf({ modelSpec: { name: 'spam' }, texts: [SPAMMY] })).initial).toMatch(/^[0-9a-f-]{36}$/);
      expect((await idOf({ modelSpec: { name: 'nope' }, texts: ['a'] }, 'req-echo-2')).trailer).toBe('req-echo-2');
      // 2^53 + 1 is no JS number: refused as it was sent, not rounded to 2^53 and looked up.
      const huge = await unary(gw, 'classify', { modelSpec: { name: 'spam', version: '9007199254740993' }, texts: ['a'] }).catch((e) => e);
      expect(huge).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining('model_spec.version is 9007199254740993') });
    } finally {
      gw.close();
      oip.close();
    }
  });

  it('tokenizes with the tokenizer of the version classify would use, with offsets into the text and truncation', async () => {
    const text = 'Free money 😀 now, café';
    // MAX_LENGTH one-letter words: more ids than fit once [CLS] and [SEP] are added, in a body the test gateway accepts.
    const long = Array.from({ length: MAX_LENGTH }, () => 'a').join(' ');
    const res = await post('/v1/models/spam:tokenize', { texts: [text, long] }, { 'x-request-id': 'req-tokenize-1' });
    expect(res.status).toBe(200);
    const body = await res.json() as any;
    expect(body).toMatchObject({ model_version: '1', tokenizer: HASH_V1, max_length: MAX_LENGTH, add_special_tokens: true });
    const [first, second] = body.results;
    expect(first.truncated).toBe(false);
    expect(first.tokens.map((t: any) => t.token)).toEqual(['[CLS]', 'free', 'money', '[UNK]', 'now', 'caf', '[UNK]', '[SEP]']);
    for (const t of first.tokens.filter((t: any) => !t.special && !t.unknown)) expect(text.slice(t.start, t.end).toLowerCase()).toBe(t.token);
    expect(text.slice(first.tokens[3].start, first.tokens[3].end)).toBe('😀');
    expect(second.truncated).toBe(true);
    expect(second.tokens).toHaveLength(MAX_LENGTH);
    // Tokenize is its own RPC: no Encode, so the tokenizer's hot-text cache never sees it, and no Predict.
    expect(plane.seen.filter((s) => s.requestId === 'req-tokenize-1').map((s) => s.method)).toEqual(['tokenize']);

    const canary = await (await post('/v1/models/spam/labels/canary:tokenize', { texts: ['free'], add_special_tokens: false })).json() as any;
    expect(canary).toMatchObject({ model_version: '2', tokenizer: HASH_V2, add_special_tokens: false });
    expect(canary.results[0].tokens.map((t: any) => t.token)).toEqual(['free']);
    expect((await (await post('/v1/models/spam/versions/2:tokenize', { texts: ['a'] })).json() as any).tokenizer).toBe(HASH_V2);
  });

  it.each([
    ['an empty list', { texts: [] }],
    ['an empty text', { texts: ['ok', ''] }],
    ['a text of only whitespace', { texts: ['  '] }],
    ['too many texts', { texts: ['a', 'b', 'c', 'd', 'e'] }],
    ['a number among the texts', { texts: ['a', 3] }],
  ])('refuses %s in :tokenize exactly as :classify does', async (_what, body) => {
    const [tokenized, classified] = await Promise.all([post('/v1/models/spam:tokenize', body), post('/v1/models/spam:classify', body)]);
    expect(tokenized.status).toBe(400);
    expect(await tokenized.json()).toEqual(await classified.json());
  });

  it('answers :tokenize errors for unknown models and bad options', async () => {
    expect((await post('/v1/models/nope:tokenize', { texts: ['a'] })).status).toBe(404);
    expect((await post('/v1/models/spam/versions/9:tokenize', { texts: ['a'] })).status).toBe(404);
    const bad = await post('/v1/models/spam:tokenize', { texts: ['a'], add_special_tokens: 'yes' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error).toMatch(/add_special_tokens must be true or false/);
  });

  it('serves gateway.v1 Tokenize over gRPC', async () => {
    const root = loadGrpcObject(['gateway']) as any;
    const gw = new root.servable.gateway.v1.GatewayService(grpcUrl, grpc.credentials.createInsecure(), GRPC_CHANNEL_OPTIONS);
    const unary = (req: unknown) => new Promise<any>((res, rej) => gw.tokenize(req, (err: Error | null, reply: unknown) => (err ? rej(err) : res(reply))));
    try {
      const reply = await unary({ modelSpec: { name: 'spam', versionLabel: 'canary' }, texts: ['free money'] });
      expect(reply).toMatchObject({ modelVersion: '2', tokenizer: HASH_V2, maxLength: MAX_LENGTH });
      expect(reply.texts[0].tokens.map((t: any) => [t.token, t.start, t.end])).toEqual([['[CLS]', 0, 0], ['free', 0, 4], ['money', 5, 10], ['[SEP]', 0, 0]]);
      expect((await unary({ modelSpec: { name: 'spam' }, texts: [] }).catch((e) => e)).code).toBe(grpc.status.INVALID_ARGUMENT);
    } finally {
      gw.close();
    }
  });

  it('labels request metrics with their source: the console when it says so, else the API', async () => {
    await post('/v1/models/spam:classify', { texts: ['x'] }, { 'x-servable-source': 'console' });
    await post('/v1/models/spam:classify', { texts: ['x'] }, { 'x-servable-source': 'made-up' });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/servable_gateway_requests_total\{[^}]*api="product"[^}]*code="OK"[^}]*source="console"[^}]*\} 1\n/);
    expect(metrics).toMatch(/servable_gateway_requests_total\{[^}]*api="product"[^}]*code="OK"[^}]*source="api"[^}]*\} \d+/);
    expect(metrics).not.toMatch(/source="made-up"/);
  });

  it('serves texts it has encoded lately from its near cache of token ids, without the tokenizer hop', async () => {
    const [hot, other, fresh] = ['near cache: free money', 'near cache: lunch at noon', 'near cache: free lunch'];
    const classify = async (requestId: string, texts: string[]) => {
      const res = await post('/v1/models/spam/versions/1:classify', { texts }, { 'x-request-id': requestId });
      expect(res.status).toBe(200);
      const encoded = plane.seen.filter((s) => s.requestId === requestId && s.method === 'encode').flatMap((s) => s.texts ?? []);
      return { encoded, spam: ((await res.json()) as any).predictions.map((p: any) => p.scores.spam) as number[] };
    };
    const first = await classify('req-near-1', [hot, other]);
    expect(first.encoded).toEqual([hot, other]);
    // Only the text it has not seen goes to the tokenizer; the answer keeps the request's order.
    const second = await classify('req-near-2', [fresh, hot]);
    expect(second.encoded).toEqual([fresh]);
    expect(second.spam[0]).toBeCloseTo(spamOf(fresh), 5);
    expect(second.spam[1]).toBeCloseTo(first.spam[0], 5);
    const third = await classify('req-near-3', [other, fresh, hot]);
    expect(third.encoded).toEqual([]);
    expect(third.spam).toEqual([first.spam[1], second.spam[0], first.spam[0]]);
    // Another version pinned to another tokenizer shares nothing with version 1's entries.
    const res = await post('/v1/models/spam/versions/2:classify', { texts: [hot] }, { 'x-request-id': 'req-near-v2' });
    expect(res.status).toBe(200);
    expect(plane.seen.filter((s) => s.requestId === 'req-near-v2' && s.method === 'encode').flatMap((s) => s.texts ?? [])).toEqual([hot]);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const count = (result: string) => Number(new RegExp(`^servable_gateway_token_cache_lookups_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(metrics)?.[1]);
    expect(count('hit')).toBeGreaterThanOrEqual(4);
    expect(count('miss')).toBeGreaterThanOrEqual(4);
    expect(Number(/^servable_gateway_token_cache_bytes (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
  });

  it('says which texts it cut to max_length, from its near cache too, and refuses them when "truncate" is false', async () => {
    const words = (n: number, word: string) => Array.from({ length: n }, () => word).join(' ');
    // One id per word: `over` is cut, `exact` fits with no room to spare (as long as a cut row).
    const over = words(MAX_LENGTH + 5, 'b');
    const exact = words(MAX_LENGTH, 'c');
    const classify = (body: unknown) => post('/v1/models/spam/versions/1:classify', body);
    for (const from of ['the tokenizer', 'the near cache']) {
      const res = await classify({ texts: ['free money', over] });
      expect(res.status, from).toBe(200);
      expect(((await res.json()) as any).predictions.map((p: any) => p.truncated), from).toEqual([false, true]);
      expect(res.headers.get('x-servable-truncated'), from).toBe('1');
      const fits = await classify({ texts: [exact] });
      expect(((await fits.json()) as any).predictions[0].truncated, from).toBe(false);
      expect(fits.headers.has('x-servable-truncated'), from).toBe(false);
    }
    // TEI's truncate: false. Refused before inference, naming the text.
    const refused = await classify({ texts: ['free money', over], truncate: false });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({
      code: 'INVALID_ARGUMENT',
      error: `texts[1] is longer than spam version 1's max_length of ${MAX_LENGTH} ids (special tokens included), and "truncate" is false: shorten it, or leave "truncate" out to have the model read the first ${MAX_LENGTH} ids`,
    });
    expect((await classify({ texts: [exact], truncate: false })).status).toBe(200);
    expect(((await (await classify({ texts: ['a'], truncate: 'no' })).json()) as any).error).toContain('truncate must be true or false, got "no"');
    // TF Serving's answer has no place for it: the header says it.
    const tf = await classify({ examples: [{ text: 'free' }, { text: over }] });
    expect(tf.status).toBe(200);
    expect(tf.headers.get('x-servable-truncated')).toBe('1');

    const root = loadGrpcObject(['gateway']) as any;
    const gw = new root.servable.gateway.v1.GatewayService(grpcUrl, grpc.credentials.createInsecure(), GRPC_CHANNEL_OPTIONS);
    const call = (req: unknown) =>
      new Promise<{ reply?: any; err?: grpc.ServiceError; truncated?: unknown }>((resolve) => {
        let truncated: unknown;
        const c = gw.classify(req, (err: grpc.ServiceError | null, reply: unknown) => resolve({ reply, err: err ?? undefined, truncated }));
        c.on('metadata', (m: grpc.Metadata) => (truncated = m.get('x-servable-truncated')[0]));
      });
    try {
      const spec = { name: 'spam', version: '1' };
      const served = await call({ modelSpec: spec, texts: [exact, over, 'lunch'] });
      expect(served.reply.predictions.map((p: any) => p.truncated)).toEqual([false, true, false]);
      expect(served.truncated).toBe('1');
      const both = await call({ modelSpec: spec, texts: [over, exact, `${over} b`], truncate: false });
      expect(both.err).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining('texts [0], [2] are longer than spam version 1') });
    } finally {
      gw.close();
    }
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(Number(/^servable_gateway_truncated_texts_total\{model="spam",version="1"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(4);
  });

  it('passes the caller deadline downstream and answers 504 when it passes', async () => {
    plane.predictDelayMs = 400;
    try {
      const res = await post('/v1/models/spam/versions/1:classify', { texts: ['a text never sent before'] }, { 'x-request-id': 'req-deadline', 'x-request-timeout-ms': '150' });
      expect(res.status).toBe(504);
      expect((await res.json() as any).code).toBe('DEADLINE_EXCEEDED');
      const hop = plane.seen.find((s) => s.requestId === 'req-deadline' && s.method === 'encode');
      expect(hop!.deadline! - Date.now()).toBeLessThan(200);
    } finally {
      plane.predictDelayMs = 0;
    }
  });

  it('accepts OIP raw_input_contents over gRPC and answers raw outputs', async () => {
    const root = loadGrpcObject(['oip']) as any;
    const oip = new root.inference.GRPCInferenceService(grpcUrl, grpc.credentials.createInsecure(), GRPC_CHANNEL_OPTIONS);
    try {
      const text = Buffer.from(SPAMMY);
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32LE(text.length);
      const reply = await new Promise<any>((res, rej) =>
        oip.modelInfer(
          { modelName: 'spam', modelVersion: '2', inputs: [{ name: 'text', datatype: 'BYTES', shape: [1] }], rawInputContents: [Buffer.concat([prefix, text])] },
          (err: Error | null, r: unknown) => (err ? rej(err) : res(r)),
        ),
      );
      const probs = new Float32Array(Uint8Array.from(reply.rawOutputContents[0]).buffer);
      expect(reply.modelVersion).toBe('2');
      expect(probs[1]).toBeCloseTo(spamOf(SPAMMY), 5);
      const infer = (request: unknown) => new Promise<any>((res, rej) => oip.modelInfer(request, (err: Error | null, r: unknown) => (err ? rej(err) : res(r))));
      // INT64 ids (what numpy int64 arrays become), raw and typed, read as the INT32 ids they are.
      const ids = fakeEncode(SPAMMY);
      const int64 = Buffer.from(BigInt64Array.from(ids.map(BigInt)).buffer);
      const rawIds = await infer({ modelName: 'spam', modelVersion: '2', inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [1, ids.length] }], rawInputContents: [int64] });
      expect(new Float32Array(Uint8Array.from(rawIds.rawOutputContents[0]).buffer)[1]).toBeCloseTo(spamOf(SPAMMY), 5);
      const typedIds = await infer({ modelName: 'spam', inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [1, ids.length], contents: { int64Contents: ids.map(String) } }] });
      expect(typedIds.outputs[0].contents.fp32Contents).toHaveLength(2);
      const refused = (request: unknown) => infer(request).catch((e) => e);
      const textInput = { name: 'text', datatype: 'BYTES', shape: [1] };
      expect(await refused({ modelName: 'spam', inputs: [{ ...textInput, contents: { bytesContents: [text] } }], rawInputContents: [Buffer.concat([prefix, text])] })).toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringContaining('contents must not be given when using raw_input_contents'),
      });
      expect(await refused({ modelName: 'spam', inputs: [{ ...textInput, contents: { bytesContents: [text] } }], outputs: [{ name: 'logits' }] })).toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringContaining('unexpected inference output "logits"'),
      });
      expect(await refused({ modelName: 'spam', inputs: [{ name: 'input_ids', datatype: 'FP32', shape: [1, 2], contents: { fp32Contents: [2, 3] } }] })).toMatchObject({
        details: expect.stringContaining('datatype FP32 is not accepted'),
      });
      expect(await refused({ modelName: 'spam', modelVersion: '0', inputs: [{ ...textInput, contents: { bytesContents: [text] } }] })).toMatchObject({ code: grpc.status.NOT_FOUND });
    } finally {
      oip.close();
    }
  });

  it('answers 503 fast while inference is down, says so on /readyz, and recovers without a restart', async () => {
    await plane.stopInference();
    try {
      const t0 = Date.now();
      const res = await post('/v1/models/spam/versions/1:classify', { texts: ['a'] });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBeTruthy();
      expect(Date.now() - t0).toBeLessThan(5_000);
      // Unready once the health checks (every DATA_PLANE_HEALTH_INTERVAL_MS) see no inference replica SERVING.
      await waitFor('/readyz 503', async () => (await fetch(`${url}/readyz`)).status === 503, 3_000);
      const report = await (await fetch(`${url}/readyz`)).json() as any;
      expect(report.checks.tokenizer.serving).toBe(1);
      expect(report.checks.inference.serving).toBe(0);
      expect(report.checks.inference.replicas).toEqual([expect.objectContaining({ address: plane.inferenceUrl, status: 'UNREACHABLE' })]);
      expect(report.checks.store).toEqual({ up: true });
      // OIP model readiness says the same: no replica serves the version (it said ready while every request got 503).
      const modelReady = await fetch(`${url}/v2/models/spam/ready`);
      expect(modelReady.status).not.toBe(200);
      // gRPC health says the same, for the server and each service: a gRPC balancer stops routing here too.
      for (const service of ['', 'tensorflow.serving.PredictionService']) {
        await waitFor(`grpc health "${service}" NOT_SERVING`, async () => (await grpcHealth(service)) === 'NOT_SERVING', 3_000);
      }
    } finally {
      await plane.startInference();
    }
    const again = await post('/v1/models/spam/versions/1:classify', { texts: [SPAMMY] });
    expect(again.status).toBe(200);
    await waitFor('grpc health SERVING again', async () => (await grpcHealth('')) === 'SERVING', 3_000);
  });
});
