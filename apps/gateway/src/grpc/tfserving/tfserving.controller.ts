import { Controller, Inject, UseFilters, UseGuards } from '@nestjs/common';
import { CountingGrpcExceptionFilter } from '../counting-exception.filter';
import type { Metadata } from '@grpc/grpc-js';
import { ErrorCode, ServableError } from '@servable/contracts';
import { packAny, tensorflowError, tensorflowServing } from '@servable/contracts/grpc';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway.config';
import { PredictionService } from '../../inference/prediction.service';
import { ModelInfoService } from '../../models/model-info.service';
import { AuthGuard } from '../../control-plane/auth.guard';
import { grpcCallContext, grpcMetadata, sendResponseMetadata } from '../../request-metadata/grpc-metadata';
import { deadlineOf, declaredTokenizer, predictionMetadata, versionSelector, type NamedVersion } from '../../request-metadata/request-metadata';
import {
  CLASSIFY_METHOD,
  REGRESS_UNSUPPORTED,
  answeredSpec,
  exampleTexts,
  outputName,
  predictInput,
  predictOutputs,
  signatureDefMap,
  specSelector,
} from './tfserving-tensors';

import tfs = tensorflowServing;

const SIGNATURE_DEF_FIELD = 'signature_def';

/** Our error code names are TF's (tensorflow.error.Code) except for ones TF lacks. */
function tfErrorCode(code: string): tensorflowError.Code {
  return code in tensorflowError.Code ? (code as tensorflowError.Code) : 'UNKNOWN';
}

/**
 * tensorflow.serving.PredictionService: TF Serving's gRPC API, so its clients
 * (tensorflow-serving-api stubs, grpcurl with its protos) work unchanged.
 * Servable versions are classifiers with one signature, `serving_default`.
 */
@Controller()
@UseFilters(CountingGrpcExceptionFilter)
// APP_GUARD covers REST only: a hybrid app's gRPC server needs the guard named here.
@UseGuards(AuthGuard)
@tensorflowServing.PredictionServiceControllerMethods()
export class TfServingPredictionController implements tfs.PredictionServiceController {
  constructor(
    private readonly predictions: PredictionService,
    private readonly info: ModelInfoService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async predict(request: tfs.PredictRequest, metadata: Metadata, call?: unknown): Promise<tfs.PredictResponse> {
    const { model, version, label } = specSelector(request.modelSpec);
    const meta = grpcMetadata(metadata, call);
    const outcome = await this.predictions.predict({
      api: 'grpc',
      model,
      selector: versionSelector(meta, { version, label }),
      input: predictInput(request.inputs, declaredTokenizer(meta)),
      deadline: deadlineOf(meta, this.config),
      context: grpcCallContext(metadata, call),
    });
    sendResponseMetadata(call, metadata, predictionMetadata(outcome));
    const { manifest } = this.info.metadata(outcome.model, { version: outcome.version });
    return { modelSpec: answeredSpec(outcome.model, outcome.version), outputs: predictOutputs(outcome, outputName(manifest), request.outputFilter) };
  }

  async classify(request: tfs.ClassificationRequest, metadata: Metadata, call?: unknown): Promise<tfs.ClassificationResponse> {
    const { model, version, label } = specSelector(request.modelSpec);
    return this.runClassify(model, { version, label }, exampleTexts(request.input), metadata, call);
  }

  /** Servable versions are classifiers: a regression signature does not exist, as TF Serving answers for one. */
  regress(request: tfs.RegressionRequest): never {
    // The model and version are looked up first: an unknown one is NOT_FOUND, as in TF Serving.
    const { model, version, label } = specSelector(request.modelSpec);
    this.info.metadata(model, { version, label });
    throw ServableError.invalid(REGRESS_UNSUPPORTED);
  }

  /** Classify tasks on one model and one input, the only kind a classifier can answer. */
  async multiInference(request: tfs.MultiInferenceRequest, metadata: Metadata, call?: unknown): Promise<tfs.MultiInferenceResponse> {
    if (!request.tasks.length) throw ServableError.invalid('MultiInferenceRequest must have at least one task');
    const texts = exampleTexts(request.input);
    const results = [];
    for (const task of request.tasks) {
      if (task.methodName !== CLASSIFY_METHOD) throw ServableError.invalid(`Unsupported signature method_name: ${task.methodName}; only ${CLASSIFY_METHOD}`);
      const { model, version, label } = specSelector(task.modelSpec);
      const answer = await this.runClassify(model, { version, label }, texts, metadata, call);
      results.push({ modelSpec: answer.modelSpec, classificationResult: answer.result });
    }
    return { results };
  }

  getModelMetadata(request: tfs.GetModelMetadataRequest, metadata: Metadata): tfs.GetModelMetadataResponse {
    const { model, version, label } = specSelector(request.modelSpec);
    if (!request.metadataField.length) throw ServableError.invalid('GetModelMetadataRequest must specify at least one metadata_field');
    const unsupported = request.metadataField.filter((f) => f !== SIGNATURE_DEF_FIELD);
    if (unsupported.length) throw ServableError.invalid(`Metadata field ${unsupported.join(', ')} is not supported; only "${SIGNATURE_DEF_FIELD}"`);
    const { manifest } = this.info.metadata(model, versionSelector(grpcMetadata(metadata), { version, label }));
    return {
      modelSpec: answeredSpec(manifest.name, manifest.version),
      metadata: { [SIGNATURE_DEF_FIELD]: packAny(['tfservingPrediction'], 'tensorflow.serving.SignatureDefMap', { ...signatureDefMap(manifest) }) },
    };
  }

  private async runClassify(
    model: string,
    selector: NamedVersion,
    texts: string[],
    metadata: Metadata,
    call: unknown,
  ): Promise<{ modelSpec: tfs.ModelSpec; result: tfs.ClassificationResult }> {
    const meta = grpcMetadata(metadata, call);
    const { outcome } = await this.predictions.classify({
      api: 'grpc',
      model,
      selector: versionSelector(meta, selector),
      input: { kind: 'texts', texts },
      deadline: deadlineOf(meta, this.config),
      context: grpcCallContext(metadata, call),
    });
    sendResponseMetadata(call, metadata, predictionMetadata(outcome));
    const classifications = Array.from({ length: outcome.rows }, (_, r) => ({
      classes: outcome.labels.map((label, c) => ({ label, score: outcome.probabilities[r * outcome.classes + c] })),
    }));
    return { modelSpec: answeredSpec(outcome.model, outcome.version), result: { classifications } };
  }
}

/** tensorflow.serving.ModelService: version states; config reloads belong to the control plane. */
@Controller()
@UseFilters(CountingGrpcExceptionFilter)
@UseGuards(AuthGuard)
@tensorflowServing.ModelServiceControllerMethods()
export class TfServingModelController implements tfs.ModelServiceController {
  constructor(private readonly info: ModelInfoService) {}

  getModelStatus(request: tfs.GetModelStatusRequest): tfs.GetModelStatusResponse {
    // A status is the model's, not a signature's: TF Serving ignores signature_name here.
    const { model, version, label } = specSelector(request.modelSpec, { signature: false });
    const statuses = this.info.status(model, { version, label });
    return {
      modelVersionStatus: statuses.map((s) => ({
        version: String(s.version),
        state: s.state in tfs.ModelVersionStatus_State ? (s.state as tfs.ModelVersionStatus_State) : 'UNKNOWN',
        status: { errorCode: tfErrorCode(s.errorCode), errorMessage: s.errorMessage },
      })),
    };
  }

  handleReloadConfigRequest(): never {
    throw new ServableError(
      ErrorCode.FAILED_PRECONDITION,
      'models are managed by the control plane: use the admin API, `servable`, or POST /v2/repository/models/{model}/load',
    );
  }
}
