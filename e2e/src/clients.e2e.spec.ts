/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers of the APIs under test */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyRepository } from '@servable/persistence/testing';
import { waitFor } from '@servable/observability/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, MODELS, ROOT, manifestOf, modelVersions, startPlatform, type Platform } from './support/platform';
import { grpcClients, unary } from './support/grpc-client';

const SERVABLE_BIN = join(ROOT, 'node_modules/.bin/servable');

/**
 * The clients of issue 19 against the real processes: the `servable` CLI over the
 * admin API, and bringing your own model (build, import, upload, predict).
 */
describe('servable CLI and bring-your-own-model (tokenizer + inference + gateway processes)', () => {
  const repo = copyRepository();
  const work = mkdtempSync(join(tmpdir(), 'servable-cli-'));
  let platform: Platform;
  let cliEnv: Record<string, string>;

  /** The CLI as a user runs it after `npm ci`: the bin npm linked. */
  const servable = (...args: string[]) => {
    // No SERVABLE_URL/KEY: the CLI must use what `login` stored, in a config dir of this test's own.
    const env: Record<string, string | undefined> = { ...process.env, ...cliEnv };
    delete env['SERVABLE_URL'];
    delete env['SERVABLE_KEY'];
    const r = spawnSync(SERVABLE_BIN, args, { env, encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const ok = (...args: string[]) => {
    const r = servable(...args);
    expect(r.status, `servable ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const json = (...args: string[]) => JSON.parse(ok(...args, '--json'));

  beforeAll(async () => {
    platform = await startPlatform({}, { common: { MODEL_REPOSITORY: repo.root } });
    cliEnv = { SERVABLE_CONFIG_DIR: join(work, 'config') };
  });

  afterAll(async () => {
    await platform?.close();
    repo.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it('prints its help, and refuses an unknown command with exit code 2', () => {
    expect(ok('--help')).toMatch(/servable <command>/);
    const bad = servable('frobnicate');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown command "frobnicate"/);
  });

  it('logs in with a key, stores it privately, and refuses a wrong one', () => {
    const wrong = servable('login', '--url', platform.url, '--key', 'svb_wrong_key');
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/401 UNAUTHENTICATED/);
    expect(ok('login', '--url', platform.url, '--key', ADMIN_KEY)).toMatch(/logged in .*\(admin\)/);
    const stored = join(work, 'config/config.json');
    expect(JSON.parse(readFileSync(stored, 'utf8'))).toEqual({ url: platform.url, key: ADMIN_KEY });
    expect(spawnSync('stat', ['-c', '%a', stored], { encoding: 'utf8' }).stdout.trim()).toBe('600');
    expect(ok('whoami')).toMatch(/\(admin\)/);
  });

  it('manages keys: create, list and revoke', () => {
    const created = json('keys', 'create', 'ci-operator', '--role', 'operator');
    expect(created.key).toMatch(/^svb_/);
    expect(ok('keys', 'list')).toMatch(/ci-operator\s+operator/);
    expect(json('keys', 'revoke', String(created.apiKey.id)).revokedAt).toBeTruthy();
    const refused = servable('keys', 'create', 'x', '--role', 'emperor');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/400 INVALID_ARGUMENT/);
  });

  it('lists and shows models, sets labels, and sets, rolls back and promotes a canary', async () => {
    const [v1, v2] = modelVersions();
    await waitFor('shipped versions AVAILABLE', async () => json('models', 'list').find((m: any) => m.name === 'spam').versions.every((v: any) => v.state === 'AVAILABLE'), 120_000, 500);
    expect(ok('models', 'list')).toMatch(new RegExp(`spam\\s+${v1}\\s+AVAILABLE`));
    expect(json('labels', 'set', 'spam', `stable=${v1}`).labels).toEqual({ stable: v1 });
    const canary = json('rollout', 'set', 'spam', '--stable', String(v1), '--canary', String(v2), '--weight', '10');
    expect(canary).toMatchObject({ stableVersion: v1, canary: v2, canaryWeight: 10 });
    expect(ok('models', 'show', 'spam')).toMatch(new RegExp(`stable ${v1}, canary ${v2} at 10%`));
    expect(json('rollout', 'rollback', 'spam').canary).toBeUndefined();
    json('rollout', 'set', 'spam', '--stable', String(v1), '--canary', String(v2), '--weight', '50');
    expect(json('rollout', 'promote', 'spam').stableVersion).toBe(v2);
    expect(json('models', 'show', 'spam').labels.stable).toBe(v2);
  });

  it('imports a TF.js model built here with a HuggingFace tokenizer, uploads it, and serves predictions from it', async () => {
    const shipped = manifestOf(modelVersions()[0]).tokenizer as { hash: string; vocab_size?: number };
    const tokenizerPath = join(MODELS, 'tokenizers', `${shipped.hash}.json`);
    const vocabSize = shipped.vocab_size!;
    // A small text classifier, as a team would train one: embedding, mean over tokens, softmax.
    const model = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: vocabSize, outputDim: 8, inputShape: [null as unknown as number], embeddingsInitializer: tf.initializers.randomUniform({ minval: -1, maxval: 1, seed: 7 }) }),
        tf.layers.globalAveragePooling1d(),
        tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 11 }) }),
      ],
    });
    const modelDir = join(work, 'my-model');
    mkdirSync(modelDir);
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        writeFileSync(join(modelDir, 'weights.bin'), Buffer.from(artifacts.weightData as ArrayBuffer));
        const modelJson = { format: 'layers-model', generatedBy: 'e2e', modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] };
        writeFileSync(join(modelDir, 'model.json'), JSON.stringify(modelJson));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );

    const out = join(work, 'byo-1');
    expect(ok('import', modelDir, '--tokenizer', tokenizerPath, '--labels', 'negative,positive', '--name', 'byo', '--out', out)).toMatch(/wrote byo version 1/);
    const manifest = JSON.parse(readFileSync(join(out, 'servable.json'), 'utf8'));
    expect(manifest).toMatchObject({
      framework: 'tfjs-layers',
      signature: { inputs: [{ dtype: 'int32', shape: [-1, -1] }], outputs: [{ dtype: 'float32', shape: [-1, 2] }] },
      labels: ['negative', 'positive'],
      tokenizer: { hash: shipped.hash, vocab_size: vocabSize },
    });
    // A labels count that does not match the output is caught before anything is uploaded.
    const wrong = servable('import', modelDir, '--tokenizer', tokenizerPath, '--labels', 'a,b,c', '--name', 'byo', '--out', join(work, 'wrong'));
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/output has 2 classes but --labels names 3/);

    expect(json('upload', out)).toMatchObject({ model: 'byo', version: 1 });
    await waitFor('byo/1 AVAILABLE', async () => json('models', 'show', 'byo').versions[0].state === 'AVAILABLE', 120_000, 500);

    const key = json('keys', 'create', 'byo-app', '--role', 'client').key;
    const text = 'the meeting moved to three';
    const res = await fetch(`${platform.url}/v1/models/byo:classify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ texts: [text] }),
    });
    const body = (await res.json()) as any;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.model_version).toBe('1');

    // The same ids through the model in this process give the same probabilities.
    const clients = grpcClients(platform.grpcUrl, platform.tokenizerUrl);
    try {
      const encoded = await unary(clients.tokenizer!, 'encode', { tokenizerHash: manifest.tokenizer.hash, texts: [text], maxLength: manifest.max_length });
      const ids = [...new Int32Array(Uint8Array.from(encoded.ids.values).buffer)];
      const local = (model.predict(tf.tensor2d([ids], [1, ids.length], 'int32')) as tf.Tensor).dataSync();
      expect(body.predictions[0].scores.negative).toBeCloseTo(local[0], 4);
      expect(body.predictions[0].scores.positive).toBeCloseTo(local[1], 4);
    } finally {
      clients.close();
    }
  });

  describe('examples/ against the platform', () => {
    let key: string;
    const runExample = (command: string, script: string) => {
      const r = spawnSync(command, [join(ROOT, 'examples', script)], {
        env: { ...process.env, SERVABLE_URL: platform.url, SERVABLE_GRPC: platform.grpcUrl, SERVABLE_KEY: key, MODEL: 'spam' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status, `${script}: ${r.stdout}\n${r.stderr}`).toBe(0);
      return r.stdout;
    };

    beforeAll(() => {
      // An operator key: it may classify, and the repository example may pin.
      key = json('keys', 'create', 'examples', '--role', 'operator').key;
    });

    it.each([
      ['bash', 'curl/product.sh', /"label":"spam"/],
      ['bash', 'curl/tfserving-rest.sh', /"model_version_status".*\n.*signature_def.*\n.*"predictions"[\s\S]*"outputs"[\s\S]*"result"/],
      ['bash', 'curl/oip-rest.sh', /"extensions":\["binary_tensor_data","model_repository"\][\s\S]*"datatype":"FP32"[\s\S]*"datatype":"FP32"/],
      ['bash', 'curl/repository.sh', /"state":"READY"/],
      ['node', 'node/product-rest.mjs', /^spam\t/m],
      ['node', 'node/tfserving-rest.mjs', /^predictions \[\[/],
      ['node', 'node/oip-rest.mjs', /WIN a FREE cruise, click now!!!\t\[[01]\.\d{4}, [01]\.\d{4}\]/],
      ['node', 'node/gateway-grpc.mjs', /^spam\t/m],
      ['node', 'node/oip-grpc.mjs', /^probabilities \[/],
      ['node', 'node/tfserving-grpc.mjs', /versions .*AVAILABLE[\s\S]*probabilities \[[\s\S]*classes ham=/],
    ])('%s %s answers', (command, script, expected) => {
      expect(runExample(command, script)).toMatch(expected);
    });
  });
});
