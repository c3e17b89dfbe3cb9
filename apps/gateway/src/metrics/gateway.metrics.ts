import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createMetricsRegistry } from '@servable/observability';

/**
 * 0.25 is the latency objective of ServableLatencyP99AboveObjective: a bound there, since
 * histogram_quantile interpolates inside a bucket, and with (0.2, 0.5] a p99 of 210 ms read as 497 ms.
 */
export const LATENCY_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5];

/**
 * The gateway's Prometheus metrics, labelled by model, version and public API.
 * `model` is a registered model or `_unknown_` (see UNKNOWN_MODEL); the names and
 * what each is for are listed in docs/operations.md.
 */
@Injectable()
export class GatewayMetrics {
  readonly registry: Registry = createMetricsRegistry();

  readonly requests = new Counter({
    name: 'servable_gateway_requests_total',
    help: 'Inference requests by model, version, API, result code and source (x-servable-source: api or console)',
    labelNames: ['model', 'version', 'api', 'code', 'source'],
    registers: [this.registry],
  });

  readonly latency = new Histogram({
    name: 'servable_gateway_request_duration_seconds',
    help: 'End-to-end latency of inference requests inside the gateway',
    labelNames: ['model', 'version', 'api'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly tokenization = new Histogram({
    name: 'servable_gateway_tokenization_duration_seconds',
    help: 'Time of the tokenizer hop (Encode), as seen by the gateway',
    labelNames: ['model', 'version', 'api'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly inference = new Histogram({
    name: 'servable_gateway_inference_duration_seconds',
    help: 'Time of the inference hop (Predict), queueing included, as seen by the gateway',
    labelNames: ['model', 'version', 'api'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  /**
   * Texts cut to their version's max_length before the model saw them: the model judged their
   * beginning only. Counted when the cut text was served; a request with "truncate": false that
   * needed a cut is refused and counted in servable_gateway_requests_total instead.
   */
  readonly truncatedTexts = new Counter({
    name: 'servable_gateway_truncated_texts_total',
    help: "Texts longer than their version's max_length ids, cut to it before inference",
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });

  /**
   * Texts the gateway encoded, by whether its near cache of token ids had them (`hit`) or the
   * tokenizer was asked (`miss`; every text is a miss when GATEWAY_TOKEN_CACHE_BYTES=0). With the
   * tokenizer's own hits, the share of texts served from any cache level.
   */
  readonly tokenCacheLookups = new Counter({
    name: 'servable_gateway_token_cache_lookups_total',
    help: 'Texts to encode, by result: hit (the near cache of token ids had them) or miss (sent to the tokenizer)',
    labelNames: ['result'],
    registers: [this.registry],
  });

  readonly tokenCacheBytes = new Gauge({
    name: 'servable_gateway_token_cache_bytes',
    help: 'Bytes held by the near cache of token ids (bounded by GATEWAY_TOKEN_CACHE_BYTES)',
    registers: [this.registry],
  });

  readonly inFlight = new Gauge({
    name: 'servable_gateway_requests_in_flight',
    help: 'Inference requests being served now (bounded by MAX_CONCURRENT_REQUESTS)',
    registers: [this.registry],
  });

  readonly retries = new Counter({
    name: 'servable_gateway_downstream_retries_total',
    help: 'Downstream calls retried on a fresh channel after UNAVAILABLE, by the component called',
    labelNames: ['component'],
    registers: [this.registry],
  });

  readonly rejected = new Counter({
    name: 'servable_gateway_rejected_requests_total',
    help: 'Requests refused with 429 because MAX_CONCURRENT_REQUESTS were in flight',
    registers: [this.registry],
  });

  readonly shadowRequests = new Counter({
    name: 'servable_gateway_shadow_requests_total',
    help: 'Requests mirrored to a shadow version, by result code (the caller never sees them)',
    labelNames: ['model', 'version', 'code'],
    registers: [this.registry],
  });

  /**
   * Rows whose top label a candidate version (`version`) gave like the version that
   * answered the caller. `kind` says where the comparison came from: `shadow`
   * (mirrored requests) or `canary` (the canary analysis).
   */
  readonly comparedRows = new Counter({
    name: 'servable_gateway_compared_rows_total',
    help: 'Rows compared between a candidate version and the served one, by kind (shadow, canary) and result (agree, disagree)',
    labelNames: ['model', 'version', 'kind', 'result'],
    registers: [this.registry],
  });

  /**
   * Canary runs that ended by rolling back, fed by the canary analysis. The alert
   * `ServableCanaryRolledBack` fires on its increase.
   */
  readonly canaryRollbacks = new Counter({
    name: 'servable_canary_rollbacks_total',
    help: 'Canary runs rolled back, by model and canary version',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });
}
