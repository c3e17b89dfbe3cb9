import { availableParallelism } from 'node:os';
import { MAX_SEQUENCE_LENGTH } from '@servable/model-repository';
import { envSchema as z, loadConfig } from '@servable/observability';

const int = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const schema = z.object({
  // host:port of the gRPC server. 0.0.0.0 so other pods reach it; 127.0.0.1 keeps it local.
  TOKENIZER_GRPC_URL: z.string().default('0.0.0.0:50051'),
  // Side port for /metrics, /healthz and /readyz (gRPC-only services have no other HTTP).
  TOKENIZER_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(9101),
  TOKENIZER_HTTP_HOST: z.string().default('0.0.0.0'),
  // Folder with tokenizers/<sha256>.json (the model repository root).
  MODEL_REPOSITORY: z.string().default('./models'),
  // Tokenizers to load at start: "all" in the repository, "none", or a comma list of hashes.
  TOKENIZER_PRELOAD: z.string().default('all'),
  // Redis behind the in-process LRU; unset means the LRU alone (one cache per replica).
  REDIS_URL: z.string().url().optional(),
  // Per-command bound: a slow Redis must cost a cache miss, never a slow request.
  REDIS_COMMAND_TIMEOUT_MS: int(100),
  // Redis TTL; long because an entry is immutable (keyed by tokenizer hash and text digest).
  CACHE_TTL_SECONDS: int(7 * 24 * 3600),
  // In-process LRU budget. 64 MiB holds ~100k short e-mails' ids; more only helps very hot sets.
  CACHE_MAX_BYTES: int(64 * 1024 * 1024),
  // Texts longer than this are refused: bounds memory and encode time per request.
  MAX_TEXT_BYTES: int(64 * 1024),
  // Texts per Encode call: bounds one call's latency and response size.
  MAX_TEXTS_PER_REQUEST: int(1024),
  // Upper bound on max_length a caller may ask for; servable.json's max_length is held to the default.
  MAX_SEQUENCE_LENGTH: int(MAX_SEQUENCE_LENGTH),
  // libuv threads encodeBatch runs on (native tokenizers use the libuv pool).
  UV_THREADPOOL_SIZE: int(Math.max(4, availableParallelism())),
  // SIGTERM: how long readiness fails before gRPC stops taking calls, so endpoint updates and the gateways' health checks land first.
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(5_000),
});

export type TokenizerConfig = z.infer<typeof schema>;

export const TOKENIZER_CONFIG = Symbol('TOKENIZER_CONFIG');

export function loadTokenizerConfig(env: NodeJS.ProcessEnv = process.env): TokenizerConfig {
  return loadConfig(schema, env);
}
