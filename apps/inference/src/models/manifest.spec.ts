import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInferenceConfig } from '../config/inference.config';
import { fakeManifest } from '../testing/inference-fixtures';
import { batchingOf } from './manifest';
import { repositorySource } from './repository-source';

/** A one-version repository whose servable.json carries `batching` (or nothing), read the way inference reads it. */
async function readFromRepository(batching?: Record<string, unknown>) {
  const root = mkdtempSync(join(tmpdir(), 'batching-'));
  mkdirSync(join(root, 'toy', '1'), { recursive: true });
  writeFileSync(join(root, 'toy', '1', 'servable.json'), JSON.stringify(fakeManifest('toy', 1, batching ? { batching } : {})));
  return repositorySource(root).readManifest('toy', 1);
}

const env = loadInferenceConfig({ MAX_BATCH_SIZE: '8', BATCH_TIMEOUT_MICROS: '250', MAX_QUEUE_SIZE: '100', MAX_BATCH_TOKENS: '4096' });

describe('batchingOf: servable.json, else the environment, else the built-in default', () => {
  it('applies the environment wherever servable.json is silent', async () => {
    expect(batchingOf(await readFromRepository(), env)).toEqual({
      maxBatchSize: 8,
      batchTimeoutMicros: 250,
      maxQueueSize: 100,
      maxBatchTokens: 4096,
      allowedBatchSizes: undefined,
    });
  });

  it('takes each field servable.json sets over the environment, and the environment for the rest', async () => {
    const manifest = await readFromRepository({ max_batch_size: 16, batch_timeout_micros: 0, allowed_batch_sizes: [4, 16] });
    expect(batchingOf(manifest, env)).toEqual({
      maxBatchSize: 16,
      batchTimeoutMicros: 0,
      maxQueueSize: 100,
      maxBatchTokens: 4096,
      allowedBatchSizes: [4, 16],
    });
  });

  it('falls back to the built-in defaults when neither says anything', async () => {
    expect(batchingOf(await readFromRepository(), loadInferenceConfig({}))).toMatchObject({
      maxBatchSize: 64,
      batchTimeoutMicros: 2000,
      maxQueueSize: 1024,
      maxBatchTokens: 16384,
    });
  });

  it('raises max_batch_tokens to max_length, so the longest row still fits a batch', async () => {
    const manifest = { ...(await readFromRepository({ max_batch_tokens: 10 })), max_length: 32 };
    expect(batchingOf(manifest, env).maxBatchTokens).toBe(32);
  });

  // The shipped models were benchmarked with what applied before the environment could
  // apply at all: 64 rows, 2 ms, 1024 queued, 16384 tokens. Unset environment keeps them.
  const REPOSITORY = resolve(__dirname, '../../../../models');
  it.skipIf(!existsSync(join(REPOSITORY, 'spam', '1', 'servable.json')))('keeps the shipped spam versions at the batching they were tuned with', async () => {
    const source = repositorySource(REPOSITORY);
    for (const version of await source.listVersions('spam')) {
      expect(batchingOf(await source.readManifest('spam', version), loadInferenceConfig({}))).toEqual({
        maxBatchSize: 64,
        batchTimeoutMicros: 2000,
        maxQueueSize: 1024,
        maxBatchTokens: 16384,
        allowedBatchSizes: undefined,
      });
    }
  });
});
