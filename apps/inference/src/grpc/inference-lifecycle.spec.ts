import { status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToFloat32 } from '@servable/contracts';
import type { servableInferenceV1 as v1 } from '@servable/contracts/grpc';
import type { RunningInference } from '../inference-server';
import {
  FAKE_WORKER,
  denseRequest,
  fakeManifest,
  fakeSource,
  inferenceClient,
  raggedRequest,
  startForTest,
  waitForState,
  type InferenceClient,
} from '../testing/inference-fixtures';
import { grpcError } from '@servable/observability/testing';

// Lifecycle, validation and error codes over real gRPC, with a fake worker
// (no TF.js): each row's output is [sum of ids, padded length of its batch].

describe('inference lifecycle over gRPC (fake worker)', () => {
  const source = fakeSource([
    fakeManifest('spam', 1),
    fakeManifest('spam', 2),
    fakeManifest('spam', 3, { loadDelayMs: 1500 }),
    fakeManifest('spam', 4, { failLoad: 'weights are corrupt' }),
    fakeManifest('spam', 5, { framework: 'tf-saved-model' }),
    // A model that only takes rows of exactly 8 ids.
    fakeManifest('fixed', 1, { signature: { inputs: [{ name: 'input_ids', dtype: 'int32', shape: [-1, 8] }], outputs: [{ name: 'probabilities', dtype: 'float32', shape: [-1, 2] }] }, max_length: 8 }),
  ]);
  let server: RunningInference;
  let client: InferenceClient;
  const predict = (req: unknown) => client.call<v1.PredictResponse>('predict', req);

  beforeAll(async () => {
    server = await startForTest(source, { MODEL_VERSION_POLICY: 'specific:spam=1,2;fixed=1' }, FAKE_WORKER);
    client = inferenceClient(server.grpcUrl);
    await server.startupLoaded;
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  it('serves v1 and v2 together once the start-up policy has loaded them', async () => {
    const reply = await client.call<v1.GetModelStatusResponse>('getModelStatus', { modelSpec: { name: 'spam' } });
    expect(reply.modelVersionStatus.map((s) => [s.version, s.state])).toEqual([
      ['1', 'AVAILABLE'],
      ['2', 'AVAILABLE'],
    ]);
    expect(reply.modelVersionStatus[0].backend).toBe('fake');
    const [a, b] = await Promise.all([predict(raggedRequest('spam', 1, [[1, 2, 3], [4]])), predict(raggedRequest('spam', 2, [[5]]))]);
    expect(a.modelSpec).toEqual({ name: 'spam', version: '1' });
    expect(a.outputs['probabilities'].shape).toEqual(['2', '2']);
    const out = [...bytesToFloat32(a.outputs['probabilities'].data)];
    // Row sums come back in request order; the rows may have run in one batch or two.
    expect([out[0], out[2]]).toEqual([6, 4]);
    expect(out[1]).toBe(3);
    expect(b.modelSpec?.version).toBe('2');
    expect(b.backend).toBe('fake');
  });

  it('answers version 0 with the latest AVAILABLE version', async () => {
    expect((await predict(raggedRequest('spam', 0, [[1]]))).modelSpec?.version).toBe('2');
  });

  it('accepts dense input as given', async () => {
    const reply = await predict(denseRequest('spam', 1, [2, 2], [1, 2, 3, 0]));
    expect([...bytesToFloat32(reply.outputs['probabilities'].data)]).toEqual([3, 2, 3, 2]);
  });

  it('refuses a bad dtype, a wrong rank and an out-of-range id with INVALID_ARGUMENT, naming the input', async () => {
    const dtype = await grpcError(predict(raggedRequest('spam', 1, [[1]], 'DATA_TYPE_FLOAT32')));
    expect(dtype.code).toBe(status.INVALID_ARGUMENT);
    expect(dtype.details).toMatch(/input_ids.*expected dtype int32, got float32/);
    const rank = await grpcError(predict(denseRequest('spam', 1, [4], [1, 2, 3, 4])));
    expect(rank.code).toBe(status.INVALID_ARGUMENT);
    expect(rank.details).toMatch(/input_ids.*expected rank 2.*got rank 1/);
    const range = await grpcError(predict(raggedRequest('spam', 1, [[1, 100]])));
    expect(range.code).toBe(status.INVALID_ARGUMENT);
    expect(range.details).toMatch(/input_ids.*\[0, 100\).*got 100/);
    const missing = await grpcError(predict({ modelSpec: { name: 'spam', version: 1 }, inputs: {} }));
    expect(missing.details).toMatch(/input "input_ids" is missing/);
    // uint64 past 2^53: refused as sent rather than rounded to a version that may exist.
    const huge = await grpcError(client.call('loadModel', { modelSpec: { name: 'spam', version: '18446744073709551615' } }));
    expect(huge.code).toBe(status.INVALID_ARGUMENT);
    expect(huge.details).toContain('model_spec.version is 18446744073709551615');
  });

  it('answers NOT_FOUND for an unknown version or model', async () => {
    expect((await grpcError(predict(raggedRequest('spam', 99, [[1]])))).code).toBe(status.NOT_FOUND);
    expect((await grpcError(predict(raggedRequest('nope', 1, [[1]])))).code).toBe(status.NOT_FOUND);
    expect((await grpcError(client.call('loadModel', { modelSpec: { name: 'spam', version: 99 } }))).code).toBe(status.NOT_FOUND);
  });

  it('answers UNAVAILABLE while a version loads, then serves it once AVAILABLE', async () => {
    const loading = await client.call<v1.LoadModelResponse>('loadModel', { modelSpec: { name: 'spam', version: 3 } });
    expect(['START', 'LOADING']).toContain(loading.status?.state);
    const err = await grpcError(predict(raggedRequest('spam', 3, [[1]])));
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(await waitForState(client, 'spam', 3, ['AVAILABLE', 'FAILED'])).toBe('AVAILABLE');
    expect((await predict(raggedRequest('spam', 3, [[1]]))).modelSpec?.version).toBe('3');
  });

  it('reports FAILED with the error message, and a SavedModel without tfjs-node says how to enable it', async () => {
    await client.call('loadModel', { modelSpec: { name: 'spam', version: 4 } });
    expect(await waitForState(client, 'spam', 4, ['AVAILABLE', 'FAILED'])).toBe('FAILED');
    const failed = await client.call<v1.GetModelStatusResponse>('getModelStatus', { modelSpec: { name: 'spam', version: 4 } });
    expect(failed.modelVersionStatus[0].status?.errorMessage).toMatch(/weights are corrupt/);
    expect((await grpcError(predict(raggedRequest('spam', 4, [[1]])))).code).toBe(status.FAILED_PRECONDITION);

    await client.call('loadModel', { modelSpec: { name: 'spam', version: 5 } });
    expect(await waitForState(client, 'spam', 5, ['AVAILABLE', 'FAILED'])).toBe('FAILED');
    const saved = await client.call<v1.GetModelStatusResponse>('getModelStatus', { modelSpec: { name: 'spam', version: 5 } });
    expect(saved.modelVersionStatus[0].status?.errorMessage).toMatch(/npm install @tensorflow\/tfjs-node/);
  });

  it('answers DEADLINE_EXCEEDED for a call whose deadline has passed', async () => {
    const err = await grpcError(client.call('predict', raggedRequest('spam', 1, [[1]]), { deadline: Date.now() - 1 }));
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
  });

  it('unloads v1 while v2 serves, without losing a v2 request', async () => {
    let stop = false;
    const outcomes: string[] = [];
    const traffic = (async () => {
      while (!stop) {
        const batch = await Promise.allSettled(Array.from({ length: 8 }, () => predict(raggedRequest('spam', 2, [[1, 2]]))));
        for (const r of batch) outcomes.push(r.status === 'fulfilled' ? 'ok' : (r.reason as ServiceError).details);
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    const unloaded = await client.call<v1.UnloadModelResponse>('unloadModel', { modelSpec: { name: 'spam', version: 1 } });
    expect(unloaded.status?.state).toBe('END');
    await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await traffic;
    expect(outcomes.length).toBeGreaterThan(8);
    expect(outcomes.filter((o) => o !== 'ok')).toEqual([]);
    const gone = await grpcError(predict(raggedRequest('spam', 1, [[1]])));
    expect(gone.code).toBe(status.FAILED_PRECONDITION);
    // Says how Servable loads a version (a pin), not TF Serving's LoadModel, which no Servable user calls.
    expect(gone.details).toBe('model "spam" version 1 was unloaded; pin it (servable pin <model> <version>, or POST /admin/api/models/<model>/versions/<version>/pin) to load it');
  });

  it('pads every batch to the sequence length a signature fixes, and refuses a longer row', async () => {
    const reply = await predict(raggedRequest('fixed', 1, [[1, 2], [3, 4, 5]]));
    const out = [...bytesToFloat32(reply.outputs['probabilities'].data)];
    expect([out[0], out[2]]).toEqual([3, 12]);
    // [sum, padded length]: 8 whatever the longest row, as the model's input demands.
    expect([out[1], out[3]]).toEqual([8, 8]);
    const long = await grpcError(predict(raggedRequest('fixed', 1, [[1, 2, 3, 4, 5, 6, 7, 8, 9]])));
    expect(long.code).toBe(status.INVALID_ARGUMENT);
    expect(long.details).toContain('dimension 1 is fixed at 8, got 9 ids in row 0');
  });

  it('exposes per-version metrics and readiness on the side port', async () => {
    // A name nobody loaded is counted, but under _unknown_: callers must not mint series.
    expect((await grpcError(predict(raggedRequest('client-chosen-name', 1, [[1]])))).code).toBe(status.NOT_FOUND);
    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^servable_inference_requests_total\{model="_unknown_",version="_unknown_",code="NOT_FOUND"\} [1-9]\d*$/m);
    expect(metrics).not.toMatch(/client-chosen-name/);
    expect(metrics).toMatch(/^servable_inference_worker_busy_seconds_total [0-9.e-]+$/m);
    expect(metrics).toMatch(/^servable_inference_model_load_duration_seconds_count\{model="spam"\} [1-9]/m);
    expect(metrics).toMatch(/^servable_inference_queue_capacity\{model="spam",version="2"\} [1-9]/m);
    expect(metrics).toMatch(/servable_inference_requests_total\{[^}]*model="spam",version="2",code="OK"/);
    expect(metrics).toMatch(/servable_inference_backend_info\{[^}]*backend="fake"/);
    expect(metrics).toMatch(/servable_inference_batch_size_bucket/);
    // v1 of the start-up policy was unloaded on purpose (an earlier test): it is no longer waited
    // for, so the replica stays ready and in its Service.
    const ready = await fetch(`${server.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks).not.toHaveProperty('spam:1');
  });
});

describe('inference readiness at start-up (fake worker)', () => {
  it('is not ready until the start-up policy has chosen its versions and they are AVAILABLE', async () => {
    // The repository answers its listing only when the test says so: the window in which a
    // replica is up but has not yet chosen what to load.
    const inner = fakeSource([fakeManifest('spam', 1)]);
    let release!: () => void;
    const listed = new Promise<void>((resolve) => (release = resolve));
    const source = { ...inner, listModels: async () => (await listed, inner.listModels()) };
    const server = await startForTest(source, { MODEL_VERSION_POLICY: 'specific:spam=1' }, FAKE_WORKER);
    try {
      const before = await fetch(`${server.httpUrl}/readyz`);
      expect(before.status).toBe(503);
      expect(JSON.stringify(await before.json())).toContain('selecting versions');
      release();
      await server.startupLoaded;
      const after = await fetch(`${server.httpUrl}/readyz`);
      expect(after.status).toBe(200);
      expect(JSON.stringify(await after.json())).toContain('AVAILABLE');
    } finally {
      release();
      await server.close({ graceMs: 0 });
    }
  });
});

describe('a start-up policy that names versions the repository lacks (fake worker)', () => {
  it('serves what it could load, stays unready and says which versions are missing', async () => {
    const server = await startForTest(fakeSource([fakeManifest('spam', 1)]), { MODEL_VERSION_POLICY: 'specific:spam=1,9;nope=1' }, FAKE_WORKER);
    const client = inferenceClient(server.grpcUrl);
    try {
      await server.startupLoaded;
      const ready = await fetch(`${server.httpUrl}/readyz`);
      expect(ready.status).toBe(503);
      const versions = ((await ready.json()) as { checks: { versions: Record<string, string> } }).checks.versions;
      expect(versions).toEqual({
        'spam:1': 'AVAILABLE',
        'spam:9': 'NOT_FOUND: the repository holds versions 1 of "spam"',
        'nope:1': 'NOT_FOUND: the repository has no model "nope"',
      });
      const answer = await client.call<v1.PredictResponse>('predict', raggedRequest('spam', 1, [[1, 2]]));
      expect(bytesToFloat32(answer.outputs['probabilities'].data)[0]).toBe(3);
    } finally {
      client.close();
      await server.close({ graceMs: 0 });
    }
  });
});
