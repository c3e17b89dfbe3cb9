import { Injectable } from '@nestjs/common';
import { ErrorCode, ServableError, float32ToBytes } from '@servable/contracts';
import { UNKNOWN_MODEL } from '@servable/observability';
import type { servableInferenceV1 as v1 } from '@servable/contracts/grpc';
import type { SubmitOptions } from '../batching/dynamic-batcher';
import { InferenceMetrics } from '../metrics/inference.metrics';
import { ModelManager } from './model-manager.service';
import { validateInputs } from './signature';

/** Predict: resolve the version, check the request against its signature, then queue it. */
@Injectable()
export class PredictService {
  constructor(
    private readonly models: ModelManager,
    private readonly metrics: InferenceMetrics,
  ) {}

  async predict(request: v1.PredictRequest, options: SubmitOptions): Promise<v1.PredictResponse> {
    const name = request.modelSpec?.name ?? '';
    if (!name) throw ServableError.invalid('model_spec.name is required');
    // Caller-chosen names and versions never become label values unless this process serves them.
    const version = Number(request.modelSpec?.version ?? 0);
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
      const { outputs, timing } = await batcher.submit(rows, options);
      const width = outputs[0]?.length ?? 0;
      const data = new Float32Array(rows.length * width);
      outputs.forEach((o, r) => data.set(o, r * width));
      this.metrics.requests.inc({ ...labels, code: 'OK' });
      this.metrics.rows.inc(labels, rows.length);
      const outputName = signature.outputs[0]?.name ?? 'probabilities';
      return {
        modelSpec: { name: mv.name, version: mv.version },
        outputs: { [outputName]: { dtype: 'DATA_TYPE_FLOAT32', shape: [rows.length, width], data: float32ToBytes(data) } },
        timing: { queueUs: timing.queueUs, computeUs: timing.computeUs, batchSize: timing.batchSize, paddingRatio: timing.paddingRatio },
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
