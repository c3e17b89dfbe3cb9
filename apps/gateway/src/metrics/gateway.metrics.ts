import { Injectable } from '@nestjs/common';
import { Counter, Histogram, type Registry } from 'prom-client';
import { createMetricsRegistry } from '@servable/observability';

const LATENCY_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];

/** The gateway's Prometheus metrics, labelled by model, version and public API. */
@Injectable()
export class GatewayMetrics {
  readonly registry: Registry = createMetricsRegistry('gateway');

  readonly requests = new Counter({
    name: 'gateway_requests_total',
    help: 'Inference requests by model, version, API and result code',
    labelNames: ['model', 'version', 'api', 'code'],
    registers: [this.registry],
  });

  readonly latency = new Histogram({
    name: 'gateway_request_duration_seconds',
    help: 'End-to-end latency of inference requests inside the gateway',
    labelNames: ['model', 'version', 'api'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly tokenization = new Histogram({
    name: 'gateway_tokenization_duration_seconds',
    help: 'Time of the tokenizer hop (Encode), as seen by the gateway',
    labelNames: ['model', 'version', 'api'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly inference = new Histogram({
    name: 'gateway_inference_duration_seconds',
    help: 'Time of the inference hop (Predict), queueing included, as seen by the gateway',
    labelNames: ['model', 'version', 'api'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly retries = new Counter({
    name: 'gateway_downstream_retries_total',
    help: 'Downstream calls retried on a fresh channel after UNAVAILABLE',
    labelNames: ['service'],
    registers: [this.registry],
  });

  readonly rejected = new Counter({
    name: 'gateway_rejected_requests_total',
    help: 'Requests refused with 429 because MAX_CONCURRENT_REQUESTS were in flight',
    registers: [this.registry],
  });
}
