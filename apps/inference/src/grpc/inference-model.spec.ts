import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToFloat32 } from '@servable/contracts';
import type { servableInferenceV1 as v1 } from '@servable/contracts/grpc';
import type { RunningInference } from '../inference-server';
import { repositorySource } from '../models/repository-source';
import { inferenceClient, raggedRequest, startForTest, type InferenceClient } from '../testing/inference-fixtures';
import { initBackend } from '../workers/backend-init';
import { loadModelRunner, type ModelRunner } from '../workers/model-runner';

// The shipped spam model, v1 and v2 side by side, through the real worker threads.
const REPOSITORY = resolve(__dirname, '../../../../models');
const present = [1, 2].every((v) => existsSync(join(REPOSITORY, 'spam', String(v), 'servable.json')));
// The models are committed, so under CI a missing one is a broken checkout, never a reason to skip.
if (!present && process.env['CI'] === 'true') throw new Error(`${REPOSITORY}/spam/{1,2} is missing: CI runs the real-model checks`);
if (!present) console.warn(`skipping the real-model checks: ${REPOSITORY}/spam/{1,2} is not there`);

/** Deterministic rows of different lengths with ids below the vocabulary size. */
function rows(vocab: number, count: number): number[][] {
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  return Array.from({ length: count }, (_, i) => [101, ...Array.from({ length: 3 + ((i * 17) % 60) }, () => 1000 + (next() % (vocab - 1000))), 102]);
}

describe.skipIf(!present)('spam v1 and v2 over gRPC (real model, worker threads)', () => {
  let server: RunningInference;
  let client: InferenceClient;
  const manifests = [1, 2].map((v) => JSON.parse(readFileSync(join(REPOSITORY, 'spam', String(v), 'servable.json'), 'utf8')));
  const reference = new Map<number, ModelRunner>();

  beforeAll(async () => {
    server = await startForTest(repositorySource(REPOSITORY), { MODEL_VERSION_POLICY: 'specific:spam=1,2', INFERENCE_WORKERS: '2', INFERENCE_BACKEND: 'wasm' });
    client = inferenceClient(server.grpcUrl);
    // The same model in this thread, called directly: what Predict must reproduce.
    await initBackend('wasm');
    for (const v of [1, 2]) reference.set(v, await loadModelRunner(join(REPOSITORY, 'spam', String(v)), await repositorySource(REPOSITORY).readManifest('spam', v)));
    await server.startupLoaded;
  }, 120_000);
  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  it('has both versions AVAILABLE on the WASM backend', async () => {
    const reply = await client.call<v1.GetModelStatusResponse>('getModelStatus', { modelSpec: { name: 'spam' } });
    expect(reply.modelVersionStatus.map((s) => [s.version, s.state])).toEqual([
      ['1', 'AVAILABLE'],
      ['2', 'AVAILABLE'],
    ]);
    expect(reply.modelVersionStatus[0].backend).toMatch(/^wasm/);
    expect(reply.modelVersionStatus[1].tokenizerHash).toBe(manifests[1].tokenizer.hash);
  });

  it('predicts the same probabilities as the model called in-process, within 1e-5', async () => {
    for (const version of [1, 2]) {
      const input = rows(manifests[version - 1].tokenizer.vocab_size, 12);
      // Concurrent single-row calls plus one multi-row call, so rows are batched and padded together.
      const [multi, ...singles] = await Promise.all([
        client.call<v1.PredictResponse>('predict', raggedRequest('spam', version, input)),
        ...input.map((r) => client.call<v1.PredictResponse>('predict', raggedRequest('spam', version, [r]))),
      ]);
      const batched = bytesToFloat32(multi.outputs['probabilities'].data);
      expect(multi.outputs['probabilities'].shape).toEqual([String(input.length), '2']);
      input.forEach((row, i) => {
        const expected = (reference.get(version) as ModelRunner).run(Int32Array.from(row), 1, row.length);
        const single = bytesToFloat32(singles[i].outputs['probabilities'].data);
        for (let k = 0; k < 2; k++) {
          expect(Math.abs(batched[i * 2 + k] - expected[k])).toBeLessThan(1e-5);
          expect(Math.abs(single[k] - expected[k])).toBeLessThan(1e-5);
        }
      });
    }
  });

  it('refuses an id at the vocabulary size with INVALID_ARGUMENT', async () => {
    const vocab = manifests[1].tokenizer.vocab_size;
    const err = await client.call('predict', raggedRequest('spam', 2, [[101, vocab, 102]])).catch((e: ServiceError) => e);
    expect((err as ServiceError).code).toBe(status.INVALID_ARGUMENT);
  });
});
