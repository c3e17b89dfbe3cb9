import { availableParallelism } from 'node:os';
import { envSchema as z, loadConfig } from '@servable/observability';
import { parseVersionPolicy } from './version-policy';

const int = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const schema = z.object({
  // host:port of the gRPC server. 0.0.0.0 so the gateway's pods reach it; 127.0.0.1 keeps it local.
  INFERENCE_GRPC_URL: z.string().default('0.0.0.0:50052'),
  // Side port for /metrics, /healthz and /readyz; 0 picks a free one (tests).
  INFERENCE_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(9102),
  INFERENCE_HTTP_HOST: z.string().default('0.0.0.0'),
  // The model repository root (models/<model>/<version>/servable.json, tokenizers/).
  MODEL_REPOSITORY: z.string().default('./models'),
  // auto tries tfjs-node-gpu, then tfjs-node, then WASM; pin one to fail fast when it is missing.
  INFERENCE_BACKEND: z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  // Worker threads, one backend each: more uses more cores but each loads every version (memory x N).
  INFERENCE_WORKERS: int(availableParallelism()),
  // Versions to load at start when running alone: all, latest:N, specific:model=1,2;other=3, or none (control plane decides).
  MODEL_VERSION_POLICY: z.string().default('all').transform((value, ctx) => {
    try {
      return parseVersionPolicy(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  }),
  // Batching for every field servable.json's `batching` leaves out (batchingOf in models/manifest.ts).
  // The defaults are what the shipped models were benchmarked with.
  // Rows per batch: larger amortises per-call overhead, but one batch takes longer.
  MAX_BATCH_SIZE: int(64),
  // Wait for a fuller batch while a worker is idle: throughput at low load vs. added latency.
  BATCH_TIMEOUT_MICROS: z.coerce.number().int().min(0).default(2000),
  // Rows queued per version before RESOURCE_EXHAUSTED: bounded latency instead of unbounded queues.
  MAX_QUEUE_SIZE: int(1024),
  // Padded tokens per batch (TEI): caps one batch's memory and run time when rows are long.
  MAX_BATCH_TOKENS: int(16384),
  // SIGTERM: how long readiness fails before gRPC stops taking calls, so endpoint updates and the gateways' health checks land first.
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(5_000),
  // How long SIGTERM then waits for queued requests to finish before exiting anyway.
  SHUTDOWN_DRAIN_MS: int(10_000),
});

export type InferenceConfig = z.infer<typeof schema>;

export const INFERENCE_CONFIG = Symbol('INFERENCE_CONFIG');

export function loadInferenceConfig(env: NodeJS.ProcessEnv = process.env): InferenceConfig {
  return loadConfig(schema, env);
}
