import { resolve } from 'node:path';
import { controlPlaneEnvShape } from '@servable/persistence';
import { envSchema as z, loadConfig } from '@servable/observability';

const int = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const schema = z.object({
  // Public REST port (TF Serving's REST port is 8501, so its clients need only a host change).
  GATEWAY_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8501),
  // 0.0.0.0 so a load balancer reaches it; 127.0.0.1 keeps it local.
  GATEWAY_HTTP_HOST: z.string().default('0.0.0.0'),
  // Public gRPC host:port (TF Serving's gRPC port is 8500).
  GATEWAY_GRPC_URL: z.string().default('0.0.0.0:8500'),
  // Tokenizer replicas; a headless service name spreads calls round-robin over them.
  TOKENIZER_URL: z.string().default('127.0.0.1:50051'),
  // Inference replicas, same round-robin as the tokenizer.
  INFERENCE_URL: z.string().default('127.0.0.1:50052'),
  // Default per-request deadline: long enough for a cold batch, short enough that a stuck hop fails the caller.
  REQUEST_TIMEOUT_MS: int(5_000),
  // Upper bound on a caller's own deadline (grpc-timeout, x-request-timeout-ms), so nobody holds a slot for minutes.
  MAX_REQUEST_TIMEOUT_MS: int(60_000),
  // Texts per request: bounds one request's latency and its share of a batch.
  MAX_TEXTS_PER_REQUEST: int(256),
  // Largest JSON body: a cheap first bound on memory before any parsing work.
  MAX_BODY_BYTES: int(1024 * 1024),
  // Requests in flight before 429: above it latency only grows, so shed load rather than queue forever.
  MAX_CONCURRENT_REQUESTS: int(512),
  // Model states are cached this long: lower follows loads sooner, higher saves a status call per request.
  MODEL_STATUS_TTL_MS: int(1_000),
  // How often the gateway checks that tokenizer and inference hold what the control plane wants, besides on every change.
  RECONCILE_INTERVAL_MS: int(5_000),
  // The admin console build; served at /admin when the folder exists.
  ADMIN_STATIC_DIR: z.string().default(resolve('dist/apps/admin')),
  // Database, model repository, metrics retention, admin key and auth switch: see docs/control-plane.md.
  ...controlPlaneEnvShape,
});

export type GatewayConfig = z.infer<typeof schema>;

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfig(schema, env);
}
