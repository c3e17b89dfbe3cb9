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
  // Tokenizer replicas: host:port, a comma list, ipv4:a:p,b:p, or a name (a headless Service) standing for every address it resolves to.
  TOKENIZER_URL: z.string().default('127.0.0.1:50051'),
  // Inference replicas, spelled as TOKENIZER_URL. Each replica is reconciled on its own and gets only requests for versions it holds.
  INFERENCE_URL: z.string().default('127.0.0.1:50052'),
  // How often data-plane names are resolved again: lower finds a new replica sooner, at one DNS lookup per name each time.
  DATA_PLANE_RESOLVE_INTERVAL_MS: int(5_000),
  // How often each replica's grpc.health.v1 status is read: a draining replica stops getting requests within this.
  DATA_PLANE_HEALTH_INTERVAL_MS: int(1_000),
  // Encode calls in flight per tokenizer, per replica that can take them; more requests wait and leave
  // merged in the next call: fewer gRPC calls per request under load (each costs CPU on both sides), while a
  // lone request never waits. (Predicts are not merged: each is an item of the replica's PredictStream.)
  // 1, not 2: a second call reached inference while the first one's batch ran, and waited there up to
  // BATCH_TIMEOUT_MICROS for rows that could not come (this gateway held them back), with a worker idle. One
  // call at a time reaches an idle batcher, which sends it at once and spreads it over its idle workers.
  // Alternating runs, c=64, the benchmark's eight texts: 7% more requests/s (5 of 6 pairs) and 9% less gateway
  // CPU per request; with the near cache off 9% more (6 of 6) and 18% less; the same at c=16 and c=1.
  // (An earlier stop, before the near cache, found 1 and 2 alike and 4 worse.)
  DOWNSTREAM_MAX_IN_FLIGHT: int(1),
  // Texts per merged Encode: at most the tokenizer's MAX_TEXTS_PER_REQUEST.
  DOWNSTREAM_MAX_ROWS: int(256),
  // While those calls are out, one more per slot may leave once this many rows wait for it, so the
  // service has its next call queued before the last one finishes. 0 turns early calls off.
  DOWNSTREAM_EARLY_CALL_ROWS: z.coerce.number().int().min(0).default(32),
  // The near cache of token ids, in bytes: a hot text skips the tokenizer hop (a round trip, and
  // CPU on both sides). 0 turns it off, so every text goes to the tokenizer (and its own cache).
  GATEWAY_TOKEN_CACHE_BYTES: z.coerce.number().int().min(0).default(16 * 1024 * 1024),
  // SIGTERM: how long readiness fails before the server stops taking work, so endpoint updates land first (Kubernetes' contract).
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(5_000),
  // Then how long requests in flight may take to finish before the rest is cut off: the pod's
  // terminationGracePeriodSeconds must cover both, plus closing the store (PGlite takes up to 15 s).
  SHUTDOWN_DRAIN_MS: int(30_000),
  // Default per-request deadline: long enough for a cold batch, short enough that a stuck hop fails the caller.
  REQUEST_TIMEOUT_MS: int(5_000),
  // Upper bound on a caller's own deadline (grpc-timeout, x-request-timeout-ms), so nobody holds a slot for minutes.
  MAX_REQUEST_TIMEOUT_MS: int(60_000),
  // Texts per request: bounds one request's latency and its share of a batch.
  MAX_TEXTS_PER_REQUEST: int(256),
  // Largest JSON body: a cheap first bound on memory before any parsing work.
  MAX_BODY_BYTES: int(1024 * 1024),
  // One model upload, all its files together: the gateway holds it in memory and loads the model
  // once to check it, so its memory limit must cover about three times this above its idle use.
  MAX_UPLOAD_BYTES: int(512 * 1024 * 1024),
  // Requests in flight before 429: above it latency only grows, so shed load rather than queue forever.
  MAX_CONCURRENT_REQUESTS: int(512),
  // How often the gateway checks that tokenizer and inference hold what the control plane wants, besides on every change.
  RECONCILE_INTERVAL_MS: int(5_000),
  // Canary runs: how often each replica renews its leases and checks for an ended step (a step is judged up to this late).
  CANARY_TICK_MS: int(1_000),
  // A driver that stops renewing loses its runs to another replica after this; shorter fails over sooner, at one UPDATE per run per tick.
  CANARY_LEASE_MS: int(10_000),
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
