/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of the protocol under test */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoutingTable } from '../control-plane/routing-table.service';
import { HASH_V1, fakeEncode, fakeSpamProbability } from '../testing/fake-data-plane';
import { startTestGateway, type TestGateway } from '../testing/test-gateway';

process.env['LOG_LEVEL'] ??= 'warn';

const ADMIN_KEY = 'svb_oip_ext_admin_key_0123456789';
const SPAMMY = 'free free money';
const HAMMY = 'lunch at noon';
const spamOf = (text: string) => fakeSpamProbability(fakeEncode(text));

/** BYTES as tritonclient packs them: 4-byte little-endian length, then the bytes. */
function packBytes(texts: string[]): Buffer {
  return Buffer.concat(texts.flatMap((t) => [Buffer.from(Uint32Array.of(Buffer.byteLength(t)).buffer), Buffer.from(t)]));
}

/** An infer request the way tritonclient.http sends one by default: JSON header + binary tensors. */
function binaryRequest(header: unknown, ...tensors: Buffer[]) {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...tensors]), headers: { 'inference-header-content-length': String(json.length), 'content-type': 'application/octet-stream' } };
}

/** Splits a binary answer at Inference-Header-Content-Length. */
async function binaryAnswer(res: Response): Promise<{ json: any; tail: Buffer }> {
  const raw = Buffer.from(await res.arrayBuffer());
  const length = Number(res.headers.get('inference-header-content-length'));
  return { json: JSON.parse(raw.subarray(0, length).toString()), tail: raw.subarray(length) };
}

describe('OIP REST extensions: binary tensor data and the model repository (fake data plane)', () => {
  let testGateway: TestGateway;
  let url: string;
  let keys: { operator: string; client: string };

  const call = (method: string, path: string, key: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
      body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });

  beforeAll(async () => {
    testGateway = await startTestGateway({ SERVABLE_ADMIN_KEY: ADMIN_KEY, MAX_BODY_BYTES: '4096' });
    url = testGateway.url;
    const create = async (name: string, role: string) => ((await (await call('POST', '/admin/api/api-keys', ADMIN_KEY, { name, role })).json()) as any).key as string;
    keys = { operator: await create('ops', 'operator'), client: await create('app', 'client') };
    await testGateway.gateway.controlPlane.registry.setLabels('spam', { stable: 1 }, 'test');
    await testGateway.gateway.app.get(RoutingTable).refresh();
  }, 60_000);

  afterAll(async () => {
    await testGateway?.close();
  });

  it('lists its extensions in server metadata', async () => {
    const body = (await (await fetch(`${url}/v2`)).json()) as any;
    expect(body.extensions).toEqual(expect.arrayContaining(['binary_tensor_data', 'model_repository']));
  });

  it('reads BYTES binary inputs and answers binary FP32 outputs, as tritonclient.http does by default', async () => {
    const texts = packBytes([SPAMMY, HAMMY]);
    const { body, headers } = binaryRequest(
      {
        inputs: [{ name: 'text', datatype: 'BYTES', shape: [2, 1], parameters: { binary_data_size: texts.length } }],
        outputs: [{ name: 'probabilities', parameters: { binary_data: true } }],
      },
      texts,
    );
    const res = await call('POST', '/v2/models/spam/infer', keys.client, body, headers);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/octet-stream/);
    const { json, tail } = await binaryAnswer(res);
    expect(json.model_version).toBe('1');
    expect(json.outputs[0]).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [2, 2], parameters: { binary_data_size: 16 } });
    const probabilities = new Float32Array(tail.buffer.slice(tail.byteOffset, tail.byteOffset + tail.length));
    expect(probabilities[1]).toBeCloseTo(spamOf(SPAMMY), 5);
    expect(probabilities[3]).toBeCloseTo(spamOf(HAMMY), 5);
  });

  it('reads INT64 binary ids and answers JSON when no binary output is asked for', async () => {
    const ids = fakeEncode(SPAMMY);
    const raw = Buffer.from(BigInt64Array.from(ids.map(BigInt)).buffer);
    const { body, headers } = binaryRequest(
      { inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [1, ids.length], parameters: { binary_data_size: raw.length } }], parameters: { tokenizer: HASH_V1 } },
      raw,
    );
    const res = await call('POST', '/v2/models/spam/versions/1/infer', keys.client, body, headers);
    expect(res.status).toBe(200);
    const json = (await res.json()) as any;
    expect(json.outputs[0].data[1]).toBeCloseTo(spamOf(SPAMMY), 5);
  });

  it('answers binary outputs to a JSON request that asks for them (binary_data_output)', async () => {
    const res = await call('POST', '/v2/models/spam/infer', keys.client, {
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: [SPAMMY] }],
      parameters: { binary_data_output: true },
    });
    const { json, tail } = await binaryAnswer(res);
    expect(json.outputs[0].parameters.binary_data_size).toBe(8);
    expect(tail.readFloatLE(4)).toBeCloseTo(spamOf(SPAMMY), 5);
  });

  it('refuses inconsistent binary requests with 400, and keeps JSON errors and limits elsewhere', async () => {
    const texts = packBytes([SPAMMY]);
    const past = binaryRequest({ inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: texts.length + 5 } }] }, texts);
    const res = await call('POST', '/v2/models/spam/infer', keys.client, past.body, past.headers);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toMatch(/runs past the end/);

    // A BYTES element that is not UTF-8 (Latin-1 "café") is refused, not classified as "caf\ufffd".
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]);
    const notUtf8 = binaryRequest({ inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: latin1.length + 4 } }] }, Buffer.concat([Buffer.from(Uint32Array.of(latin1.length).buffer), latin1]));
    const refused = await call('POST', '/v2/models/spam/infer', keys.client, notUtf8.body, notUtf8.headers);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as any).error).toBe('input "text" element 0 is not valid UTF-8');

    const badHeader = await call('POST', '/v2/models/spam/infer', keys.client, Buffer.from('{"inputs": ['), { 'inference-header-content-length': '12' });
    expect(badHeader.status).toBe(400);
    expect(((await badHeader.json()) as any).code).toBe('INVALID_ARGUMENT');

    const tooBig = binaryRequest({ inputs: [] }, Buffer.alloc(8192));
    const big = await call('POST', '/v2/models/spam/infer', keys.client, tooBig.body, tooBig.headers);
    expect(big.status).toBe(413);
    expect(((await big.json()) as any).error).toBeTruthy();

    const malformed = await call('POST', '/v1/models/spam:classify', keys.client, Buffer.from('{"texts": ['));
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as any).error).toMatch(/JSON/i);
  });

  it('serves the repository extension over the control plane: index, load (pin) and unload (unpin), operator only', async () => {
    const registry = testGateway.gateway.controlPlane.registry;
    expect((await call('POST', '/v2/repository/index', keys.client, {})).status).toBe(403);

    const index = (await (await call('POST', '/v2/repository/index', keys.operator, {})).json()) as any[];
    expect(index).toEqual([
      { name: 'spam', version: '1', state: 'READY' },
      { name: 'spam', version: '2', state: 'READY' },
    ]);

    expect((await call('POST', '/v2/repository/models/spam/unload', keys.client, {})).status).toBe(403);
    expect((await call('POST', '/v2/repository/models/spam/unload', keys.operator, {})).status).toBe(200);
    expect((await registry.getModel('spam')).versions.map((v) => v.pinned)).toEqual([false, false]);

    expect((await call('POST', '/v2/repository/models/spam/load', keys.operator, {})).status).toBe(200);
    expect((await registry.getModel('spam')).versions.map((v) => [v.version, v.pinned])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect((await call('POST', '/v2/repository/models/spam/load', keys.operator, { parameters: { version: 1 } })).status).toBe(200);
    expect((await registry.getModel('spam')).versions.every((v) => v.pinned)).toBe(true);

    const missing = await call('POST', '/v2/repository/models/nope/load', keys.operator, {});
    expect(missing.status).toBe(404);
    const audit = (await (await call('GET', '/admin/api/audit?action=version.pin', keys.operator)).json()) as any;
    expect(audit.events.length).toBeGreaterThanOrEqual(4);
  });
});
