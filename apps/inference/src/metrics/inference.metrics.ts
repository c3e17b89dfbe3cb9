import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createMetricsRegistry } from '@servable/observability';

const VERSION = ['model', 'version'] as const;
const MS_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5];

/**
 * Inference's Prometheus metrics, labelled by model and version so a canary's numbers
 * stand apart. `model` is a model this process has been asked to load, else `_unknown_`.
 */
@Injectable()
export class InferenceMetrics {
  readonly registry: Registry = createMetricsRegistry();

  readonly requests = new Counter({
    name: 'servable_inference_requests_total',
    help: 'Predicts (unary calls and PredictStream items) by model, version and result code',
    labelNames: [...VERSION, 'code'],
    registers: [this.registry],
  });

  readonly inFlight = new Gauge({
    name: 'servable_inference_requests_in_flight',
    help: 'Predicts being served now (queued or running)',
    registers: [this.registry],
  });

  readonly rows = new Counter({
    name: 'servable_inference_rows_total',
    help: 'Rows predicted',
    labelNames: VERSION,
    registers: [this.registry],
  });

  readonly queueTime = new Histogram({
    name: 'servable_inference_queue_duration_seconds',
    help: 'Time a row waited in the batch queue',
    labelNames: VERSION,
    buckets: MS_BUCKETS,
    registers: [this.registry],
  });

  readonly computeTime = new Histogram({
    name: 'servable_inference_batch_duration_seconds',
    help: 'Run time of one batch on a worker',
    labelNames: VERSION,
    buckets: MS_BUCKETS,
    registers: [this.registry],
  });

  readonly batchSize = new Histogram({
    name: 'servable_inference_batch_size',
    help: 'Rows per batch',
    labelNames: VERSION,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });

  readonly paddingRatio = new Histogram({
    name: 'servable_inference_batch_padding_ratio',
    help: 'Padded positions / all positions of a batch',
    labelNames: VERSION,
    buckets: [0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9],
    registers: [this.registry],
  });

  /** Set by the model manager: refreshes the sampled values (queue depth, busy time, workers) on each scrape. */
  sampler?: () => void;

  readonly queueDepth = new Gauge({
    name: 'servable_inference_queue_depth',
    help: 'Rows waiting in the batch queue',
    labelNames: VERSION,
    registers: [this.registry],
    collect: () => this.sampler?.(),
  });

  readonly queueCapacity = new Gauge({
    name: 'servable_inference_queue_capacity',
    help: 'Rows the batch queue takes before RESOURCE_EXHAUSTED (max_queue_size)',
    labelNames: VERSION,
    registers: [this.registry],
  });

  /**
   * A counter, not a ratio since start: rate() over any window gives the busy
   * cores of that window, which a lifetime average hides after a few hours.
   */
  readonly workerBusy = new Counter({
    name: 'servable_inference_worker_busy_seconds_total',
    help: 'Time the worker threads spent running batches, summed over workers',
    registers: [this.registry],
  });

  readonly workers = new Gauge({
    name: 'servable_inference_workers',
    help: 'Live worker threads',
    registers: [this.registry],
  });

  readonly backend = new Gauge({
    name: 'servable_inference_backend_info',
    help: 'The TF.js backend in use (value 1)',
    labelNames: ['backend'],
    registers: [this.registry],
  });

  readonly modelState = new Gauge({
    name: 'servable_inference_model_version_state',
    help: 'State of each version (1 for the current state)',
    labelNames: [...VERSION, 'state'],
    registers: [this.registry],
  });

  readonly loadDuration = new Histogram({
    name: 'servable_inference_model_load_duration_seconds',
    help: 'Time from the start of a load to AVAILABLE (read, load on every worker, warm-up)',
    labelNames: ['model'],
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  readonly loadFailures = new Counter({
    name: 'servable_inference_model_load_failures_total',
    help: 'Loads that ended FAILED',
    labelNames: VERSION,
    registers: [this.registry],
  });

  /** Busy seconds already added to workerBusy; the counter only moves forward, even when a dead worker's time is dropped. */
  private busyReported = 0;

  /** Adds the busy time accumulated since the last call. */
  reportBusySeconds(total: number): void {
    if (total > this.busyReported) {
      this.workerBusy.inc(total - this.busyReported);
      this.busyReported = total;
    }
  }
}
