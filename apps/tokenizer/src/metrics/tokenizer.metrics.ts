import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createMetricsRegistry } from '@servable/observability';

/** The tokenizer's Prometheus metrics, on one registry served at /metrics. */
@Injectable()
export class TokenizerMetrics {
  readonly registry: Registry = createMetricsRegistry();

  readonly requests = new Counter({
    name: 'servable_tokenizer_requests_total',
    help: 'Encode calls by result code',
    labelNames: ['code'],
    registers: [this.registry],
  });

  readonly inFlight = new Gauge({
    name: 'servable_tokenizer_requests_in_flight',
    help: 'Encode calls being served now',
    registers: [this.registry],
  });

  readonly texts = new Counter({
    name: 'servable_tokenizer_texts_total',
    help: 'Texts received by Encode',
    registers: [this.registry],
  });

  readonly latency = new Histogram({
    name: 'servable_tokenizer_request_duration_seconds',
    help: 'Encode latency, cache lookups included',
    labelNames: ['code'],
    buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  readonly cacheLookups = new Counter({
    name: 'servable_tokenizer_cache_lookups_total',
    help: 'Cache lookups per level (l1: in-process LRU, l2: Redis) and result',
    labelNames: ['level', 'result'],
    registers: [this.registry],
  });

  readonly cacheBytes = new Gauge({
    name: 'servable_tokenizer_cache_l1_bytes',
    help: 'Bytes held by the in-process LRU',
    registers: [this.registry],
  });

  readonly redisFailures = new Counter({
    name: 'servable_tokenizer_redis_failures_total',
    help: 'Redis commands that failed or timed out (served without the shared level)',
    labelNames: ['operation'],
    registers: [this.registry],
  });

  readonly invalidInputs = new Counter({
    name: 'servable_tokenizer_invalid_inputs_total',
    help: 'Rejected Encode calls by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });

  readonly tokensPerText = new Histogram({
    name: 'servable_tokenizer_tokens_per_text',
    help: 'Ids per encoded text, special tokens included',
    buckets: [4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048],
    registers: [this.registry],
  });

  readonly loadedTokenizers = new Gauge({
    name: 'servable_tokenizer_loaded_tokenizers',
    help: 'Tokenizers loaded in this process',
    registers: [this.registry],
  });
}
