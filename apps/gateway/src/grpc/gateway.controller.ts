import { Controller, Inject, UseFilters, UseGuards } from '@nestjs/common';
import { CountingGrpcExceptionFilter } from './counting-exception.filter';
import type { Metadata } from '@grpc/grpc-js';
import { ServableError, bytesToInt32, float32ToBytes } from '@servable/contracts';
import { int64ToNumber, servableGatewayV1 as v1 } from '@servable/contracts/grpc';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { PredictionService } from '../inference/prediction.service';
import { TokenizeService } from '../inference/tokenize.service';
import type { ModelInput } from '../inference/prediction.types';
import { ModelInfoService } from '../models/model-info.service';
import type { VersionSelector } from '../models/model-catalog.service';
import type { TensorSpec } from '@servable/model-repository';
import { grpcCallContext, grpcMetadata, sendResponseMetadata } from '../request-metadata/grpc-metadata';
import { declaredTokenizer, deadlineOf, predictionMetadata, versionSelector } from '../request-metadata/request-metadata';
import { AuthGuard } from '../control-plane/auth.guard';

function modelOf(spec: v1.ModelSpec | null | undefined, metadata?: Metadata): { model: string; selector: VersionSelector } {
  if (!spec?.name) throw ServableError.invalid('model_spec.name is required');
  const named = { version: int64ToNumber(spec.version, 'model_spec.version') || undefined, label: spec.versionLabel || undefined };
  return { model: spec.name, selector: versionSelector(metadata && grpcMetadata(metadata), named) };
}

const tensorInfo = (t: TensorSpec): v1.TensorInfo => ({ name: t.name, dtype: t.dtype, shape: t.shape.map(String) });

/** servable.gateway.v1.GatewayService: the product API over gRPC. */
@Controller()
@UseFilters(CountingGrpcExceptionFilter)
// APP_GUARD covers REST only: a hybrid app's gRPC server needs the guard named here.
@UseGuards(AuthGuard)
@v1.GatewayServiceControllerMethods()
export class GatewayGrpcController implements v1.GatewayServiceController {
  constructor(
    private readonly predictions: PredictionService,
    private readonly info: ModelInfoService,
    private readonly tokenizer: TokenizeService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async classify(request: v1.ClassifyRequest, metadata: Metadata, call?: unknown): Promise<v1.ClassifyResponse> {
    const { outcome, predictions } = await this.predictions.classify({
      api: 'grpc',
      ...modelOf(request.modelSpec, metadata),
      input: { kind: 'texts', texts: request.texts },
      deadline: deadlineOf(grpcMetadata(metadata, call), this.config),
      context: grpcCallContext(metadata, call),
      truncate: request.truncate,
    });
    sendResponseMetadata(call, metadata, predictionMetadata(outcome));
    return { predictions, modelVersion: String(outcome.version), tokenizer: outcome.tokenizer };
  }

  async predict(request: v1.PredictRequest, metadata: Metadata, call?: unknown): Promise<v1.PredictResponse> {
    const ids = request.inputIds?.rowLengths?.length ? request.inputIds : undefined;
    if (ids && request.texts.length > 0) throw ServableError.invalid('send texts or input_ids, not both');
    if (ids && ids.dtype !== 'DATA_TYPE_INT32') throw ServableError.invalid(`input_ids must be DATA_TYPE_INT32, got ${ids.dtype} (wrong dtype)`);
    const input: ModelInput = ids
      ? {
          kind: 'ids',
          ids: { values: bytesToInt32(ids.values), rowLengths: ids.rowLengths },
          tokenizer: declaredTokenizer(grpcMetadata(metadata), request.tokenizer),
        }
      : { kind: 'texts', texts: request.texts };
    const outcome = await this.predictions.predict({
      api: 'grpc',
      ...modelOf(request.modelSpec, metadata),
      input,
      deadline: deadlineOf(grpcMetadata(metadata, call), this.config),
      context: grpcCallContext(metadata, call),
    });
    sendResponseMetadata(call, metadata, predictionMetadata(outcome));
    return {
      outputs: { probabilities: { dtype: 'DATA_TYPE_FLOAT32', shape: [String(outcome.rows), String(outcome.classes)], data: float32ToBytes(outcome.probabilities) } },
      modelVersion: String(outcome.version),
      tokenizer: outcome.tokenizer,
    };
  }

  async tokenize(request: v1.TokenizeRequest, metadata: Metadata, call?: unknown): Promise<v1.TokenizeResponse> {
    const outcome = await this.tokenizer.tokenize({
      ...modelOf(request.modelSpec, metadata),
      texts: request.texts,
      addSpecialTokens: request.addSpecialTokens,
      deadline: deadlineOf(grpcMetadata(metadata, call), this.config),
      context: grpcCallContext(metadata, call),
    });
    return { texts: outcome.texts, modelVersion: String(outcome.version), tokenizer: outcome.tokenizer, maxLength: outcome.maxLength };
  }

  getModelStatus(request: v1.GetModelStatusRequest): v1.GetModelStatusResponse {
    const { model, selector } = modelOf(request.modelSpec);
    return {
      modelVersionStatus: this.info
        .status(model, selector)
        .map((s) => ({ ...s, version: String(s.version), replicas: s.replicas.map((r) => ({ ...r, detail: r.detail ?? '' })) })),
    };
  }

  getModelMetadata(request: v1.GetModelMetadataRequest, metadata: Metadata): v1.GetModelMetadataResponse {
    const { model, selector } = modelOf(request.modelSpec, metadata);
    const { manifest } = this.info.metadata(model, selector);
    return {
      name: manifest.name,
      version: String(manifest.version),
      tokenizer: manifest.tokenizer.hash,
      signature: { inputs: manifest.signature.inputs.map(tensorInfo), outputs: manifest.signature.outputs.map(tensorInfo), labels: manifest.labels },
    };
  }
}
