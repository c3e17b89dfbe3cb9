import { Injectable } from '@nestjs/common';
import { ErrorCode, ServableError, float32ToBytes } from '@servable/contracts';
import { SpanKind, UNKNOWN_MODEL, endSpan, startSpan, type RequestContext, type Span } from '@servable/observability';
import { int64Field, int64ToNumber, type servableInferenceV1 as v1 } from '@servable/contracts/grpc';
import type { SubmitOptions } from '../batching/dynamic-batcher';
import type { Counter } from 'prom-client';
import { InferenceMetrics } from '../metrics/inference.metrics';
import type { ModelVersion } from './model-version';
import { ModelManager } from './model-manager.service';
import { validateInputs } from './signature';

/** Predict: resolve the version, check the request against its signature, then queue it. */
@Injectable()
export class PredictService {
  /** The metric children a served request counts in, bound once per version (prom-client checks and hashes a label object on every inc). */
  private readonly served = new WeakMap<ModelVersion, { ok: Counter.Internal; rows: Counter.Internal }>();

  constructor(
    private readonly models: ModelManager,
    private readonly metrics: InferenceMetrics,
  ) {}

  private servedMetrics(mv: ModelVersion): { ok: Counter.Internal; rows: Counter.Internal } {
    let children = this.served.get(mv);
    if (!children) {
      const labels = { model: mv.name, version: String(mv.version) };
      children = { ok: this.metrics.requests.labels({ ...labels, code: 'OK' }), rows: this.metrics.rows.labels(labels) };
      this.served.set(mv, children);
    }
    return children;
  }

  /**
   * `caller` is given when tracing is on: the call becomes a server span of the
   * caller's trace, with a child span for the time its rows waited for a batch.
   */
  predict(request: v1.PredictRequest, options: SubmitOptions, caller?: RequestContext): Promise<v1.PredictResponse> {
    const traced = caller ? startSpan('Predict', caller, { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.method': 'Predict' } }) : undefined;
    if (!traced) return this.serve(request, options);
    return this.serve(request, { ...options, span: traced.span.spanContext() }, traced.span).then(
      (response) => {
        endSpan(traced.span);
        return response;
      },
      (err: unknown) => {
        endSpan(traced.span, err);
        throw err;
      },
    );
  }

  private async serve(request: v1.PredictRequest, options: SubmitOptions, span?: Span): Promise<v1.PredictResponse> {
    const name = request.modelSpec?.name ?? '';
    if (!name) throw ServableError.invalid('model_spec.name is required');
    // Caller-chosen names and versions never become label values unless this process serves them.
    const version = int64ToNumber(request.modelSpec?.version ?? '0', 'model_spec.version');
    let labels = {
      model: this.models.knows(name) ? name : UNKNOWN_MODEL,
      version: this.models.knows(name, version) ? String(version) : UNKNOWN_MODEL,
    };
    this.metrics.inFlight.inc();
    try {
      const mv = await this.models.forPredict(name, version);
      labels = { model: mv.name, version: String(mv.version) };
      const { signature, batcher } = mv;
      if (!signature || !batcher) throw new ServableError(ErrorCode.UNAVAILABLE, `${mv.key} is not serving`);
      // Checked before queueing: a bad request must never take a slot in somebody else's batch.
      const rows = validateInputs(signature, request.inputs);
      const queuedAt = Date.now();
      const { outputs, timing } = await batcher.submit(rows, options);
      if (span) traceQueueWait(span, mv.name, mv.version, queuedAt, timing.queueUs);
      const width = outputs[0]?.length ?? 0;
      const data = new Float32Array(rows.length * width);
      outputs.forEach((o, r) => data.set(o, r * width));
      const served = this.servedMetrics(mv);
      served.ok.inc();
      served.rows.inc(rows.length);
      const outputName = signature.outputs[0]?.name ?? 'probabilities';
      // Numbers in the int64 fields (int64Field): the answer goes straight to the serializer.
      return {
        modelSpec: { name: mv.name, version: int64Field(mv.version) },
        outputs: { [outputName]: { dtype: 'DATA_TYPE_FLOAT32', shape: [int64Field(rows.length), int64Field(width)], data: float32ToBytes(data) } },
        timing: { queueUs: int64Field(timing.queueUs), computeUs: int64Field(timing.computeUs), batchSize: timing.batchSize, paddingRatio: timing.paddingRatio },
        backend: this.models.backend,
      };
    } catch (err) {
      this.metrics.requests.inc({ ...labels, code: err instanceof ServableError ? err.code : ErrorCode.INTERNAL });
      throw err;
    } finally {
      this.metrics.inFlight.dec();
    }
  }
}

/** The time the request's rows waited for a batch, as a child of its Predict span (known once it ran). */
function traceQueueWait(parent: Span, model: string, version: number, queuedAt: number, queueUs: number): void {
  parent.setAttributes({ 'servable.model': model, 'servable.model_version': version });
  const queued = startSpan('queue wait', undefined, { parent, startTime: queuedAt, attributes: { 'servable.queue_us': queueUs } });
  endSpan(queued?.span, undefined, queuedAt + queueUs / 1000);
}
