import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createMetricsRegistry } from '@servable/observability';

const VERSION = ['model', 'version'] as const;
const MS_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5];

/** Inference's Prometheus metrics, labelled by model and version so a canary's numbers stand apart. */
@Injectable()
export class InferenceMetrics {
  readonly registry: Registry = createMetricsRegistry('inference');

  readonly requests = new Counter({
    name: 'inference_requests_total',
    help: 'Predict calls by model, version and result code',
    labelNames: [...VERSION, 'code'],
    registers: [this.registry],
  });

  readonly rows = new Counter({
    name: 'inference_rows_total',
    help: 'Rows predicted',
    labelNames: VERSION,
    registers: [this.registry],
  });

  readonly queueTime = new Histogram({
    name: 'inference_queue_seconds',
    help: 'Time a row waited in the batch queue',
    labelNames: VERSION,
    buckets: MS_BUCKETS,
    registers: [this.registry],
  });

  readonly computeTime = new Histogram({
    name: 'inference_compute_seconds',
    help: 'Run time of one batch on a worker',
    labelNames: VERSION,
    buckets: MS_BUCKETS,
    registers: [this.registry],
  });

  readonly batchSize = new Histogram({
    name: 'inference_batch_size',
    help: 'Rows per batch',
    labelNames: VERSION,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });

  readonly paddingRatio = new Histogram({
    name: 'inference_padding_ratio',
    help: 'Padded positions / all positions of a batch',
    labelNames: VERSION,
    buckets: [0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9],
    registers: [this.registry],
  });

  /** Set by the model manager: refreshes the sampled gauges (queue depth, busy ratio) on each scrape. */
  sampler?: () => void;

  readonly queueDepth = new Gauge({
    name: 'inference_queue_depth',
    help: 'Rows waiting in the batch queue',
    labelNames: VERSION,
    registers: [this.registry],
    collect: () => this.sampler?.(),
  });

  readonly workerBusyRatio = new Gauge({
    name: 'inference_worker_busy_ratio',
    help: 'Fraction of time the worker threads spent running batches since start',
    registers: [this.registry],
  });

  readonly workers = new Gauge({
    name: 'inference_workers',
    help: 'Live worker threads',
    registers: [this.registry],
  });

  readonly backend = new Gauge({
    name: 'inference_backend_info',
    help: 'The TF.js backend in use (value 1)',
    labelNames: ['backend'],
    registers: [this.registry],
  });

  readonly modelState = new Gauge({
    name: 'inference_model_version_state',
    help: 'State of each version (1 for the current state)',
    labelNames: [...VERSION, 'state'],
    registers: [this.registry],
  });
}
