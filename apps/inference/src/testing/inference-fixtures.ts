import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { int32ToBytes, packRagged } from '@servable/contracts';
import { GRPC_CHANNEL_OPTIONS, loadGrpcObject } from '@servable/contracts/grpc';
import { loadInferenceConfig } from '../config/inference.config';
import { startInference, type RunningInference } from '../inference-server';
import type { ModelManifest } from '@servable/model-repository';
import type { ModelSource } from '../models/manifest';
import { freePort } from '@servable/observability/testing';

export { freePort };

export const FAKE_WORKER = { path: join(__dirname, 'fake-predict-worker.cjs') };


/** Knobs the fake worker reads from the manifest it is sent (they never reach a real servable.json). */
export interface FakeWorkerHooks {
  loadDelayMs?: number;
  failLoad?: string;
}

export function fakeManifest(name: string, version: number, extra: Partial<ModelManifest> & FakeWorkerHooks = {}): ModelManifest {
  return {
    format: 'servable.model/v1',
    name,
    version,
    framework: 'tfjs-layers',
    signature: {
      inputs: [{ name: 'input_ids', dtype: 'int32', shape: [-1, -1] }],
      outputs: [{ name: 'probabilities', dtype: 'float32', shape: [-1, 2] }],
    },
    labels: ['ham', 'spam'],
    tokenizer: { hash: 'f'.repeat(64), vocab_size: 100, pad_id: 0 },
    max_length: 32,
    ...extra,
  };
}

/** An in-memory repository: manifests only, for the fake worker. */
export function fakeSource(manifests: ModelManifest[]): ModelSource {
  return {
    listModels: async () => [...new Set(manifests.map((m) => m.name))],
    listVersions: async (model) => manifests.filter((m) => m.name === model).map((m) => m.version),
    readManifest: async (model, version) => {
      const m = manifests.find((x) => x.name === model && x.version === version);
      if (!m) throw new Error(`no manifest for ${model}/${version}`);
      return m;
    },
    versionDir: (model, version) => `/fake/${model}/${version}`,
  };
}

export async function startForTest(
  source: ModelSource,
  env: Record<string, string> = {},
  workerScript?: { path: string },
): Promise<RunningInference> {
  const port = await freePort();
  const config = loadInferenceConfig({
    INFERENCE_GRPC_URL: `127.0.0.1:${port}`,
    INFERENCE_HTTP_PORT: '0',
    INFERENCE_HTTP_HOST: '127.0.0.1',
    INFERENCE_WORKERS: '2',
    LOG_LEVEL: 'warn',
    // Nothing routes to a test server, so nothing needs the unready grace before it stops.
    SHUTDOWN_GRACE_MS: '0',
    ...env,
  });
  return startInference(config, { source, workerScript });
}

export interface InferenceClient {
  call<T>(method: string, request: unknown, options?: grpc.CallOptions): Promise<T>;
  /** A PredictStream (bidirectional). */
  stream(): grpc.ClientDuplexStream<unknown, unknown>;
  close(): void;
}

export function inferenceClient(url: string): InferenceClient {
  const pkg = loadGrpcObject(['inference']) as unknown as {
    servable: { inference: { v1: { InferenceService: grpc.ServiceClientConstructor } } };
  };
  const client = new pkg.servable.inference.v1.InferenceService(url, grpc.credentials.createInsecure(), GRPC_CHANNEL_OPTIONS);
  return {
    call: <T>(method: string, request: unknown, options: grpc.CallOptions = {}) =>
      new Promise<T>((resolve, reject) => {
        const fn = (client as unknown as Record<string, Function>)[method].bind(client);
        fn(request, new grpc.Metadata(), options, (err: grpc.ServiceError | null, reply: T) => (err ? reject(err) : resolve(reply)));
      }),
    stream: () => (client as unknown as { predictStream(): grpc.ClientDuplexStream<unknown, unknown> }).predictStream(),
    close: () => client.close(),
  };
}

export function raggedRequest(name: string, version: number, rows: number[][], dtype = 'DATA_TYPE_INT32') {
  const { values, rowLengths } = packRagged(rows);
  return { modelSpec: { name, version }, inputs: { input_ids: { ragged: { dtype, values: int32ToBytes(values), rowLengths } } } };
}

export function denseRequest(name: string, version: number, shape: number[], values: number[], dtype = 'DATA_TYPE_INT32') {
  return { modelSpec: { name, version }, inputs: { input_ids: { dense: { dtype, shape, data: int32ToBytes(Int32Array.from(values)) } } } };
}

export async function waitForState(client: InferenceClient, name: string, version: number, states: string[], timeoutMs = 60_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const reply = await client.call<{ modelVersionStatus: { state: string }[] }>('getModelStatus', { modelSpec: { name, version } });
    const state = reply.modelVersionStatus[0]?.state;
    if (states.includes(state) || Date.now() > until) return state;
    await new Promise((r) => setTimeout(r, 20));
  }
}
