import { Controller } from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import type { Observable } from 'rxjs';
import { ServableError } from '@servable/contracts';
import { grpcRequestContext, tracingEnabled } from '@servable/observability';
import { int64ToNumber, servableInferenceV1 as v1 } from '@servable/contracts/grpc';
import { ModelManager } from '../models/model-manager.service';
import { PredictService } from '../models/predict.service';
import { submitOptionsFrom } from './call-options';
import { servePredictStream } from './predict-stream';

function spec(request: { modelSpec?: v1.ModelSpec | null }): { name: string; version: number } {
  const name = request.modelSpec?.name ?? '';
  if (!name) throw ServableError.invalid('model_spec.name is required');
  return { name, version: int64ToNumber(request.modelSpec?.version ?? '0', 'model_spec.version') };
}

@Controller()
@v1.InferenceServiceControllerMethods()
export class InferenceController implements v1.InferenceServiceController {
  constructor(
    private readonly predictor: PredictService,
    private readonly models: ModelManager,
  ) {}

  predict(request: v1.PredictRequest, metadata: Metadata, call?: unknown): Promise<v1.PredictResponse> {
    return this.predictor.predict(request, submitOptionsFrom(call), tracingEnabled() ? grpcRequestContext(metadata) : undefined);
  }

  /** The gateway's hop: Predicts as items of one stream, each answered as soon as its rows ran (servePredictStream). */
  predictStream(requests: Observable<v1.PredictStreamRequest>): Observable<v1.PredictStreamResponse> {
    return servePredictStream(requests, (request, options, caller) => this.predictor.predict(request, options, caller));
  }

  async loadModel(request: v1.LoadModelRequest): Promise<v1.LoadModelResponse> {
    const { name, version } = spec(request);
    return { status: (await this.models.load(name, version)).status(this.models.backend) };
  }

  async unloadModel(request: v1.UnloadModelRequest): Promise<v1.UnloadModelResponse> {
    const { name, version } = spec(request);
    if (!version) throw ServableError.invalid('UnloadModel needs an explicit model_spec.version');
    return { status: (await this.models.unload(name, version)).status(this.models.backend) };
  }

  getModelStatus(request: v1.GetModelStatusRequest): v1.GetModelStatusResponse {
    const { name, version } = spec(request);
    return { modelVersionStatus: this.models.statuses(name, version) };
  }
}
