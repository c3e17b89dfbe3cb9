import { Controller, Inject, UseFilters, UseGuards } from '@nestjs/common';
import { CountingGrpcExceptionFilter } from './counting-exception.filter';
import type { Metadata } from '@grpc/grpc-js';
import { ServableError, float32ToBytes } from '@servable/contracts';
import { inference } from '@servable/contracts/grpc';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { ReadinessService } from '../health/readiness.service';
import { OIP_PROBABILITIES_OUTPUT, checkRequestedOutputs, oipModelInput, oipSignature, oipVersion } from '../inference/oip-tensors';
import { PredictionService } from '../inference/prediction.service';
import { ModelInfoService } from '../models/model-info.service';
import { GATEWAY_NAME, GATEWAY_VERSION } from '../server-info';
import { grpcCallContext, grpcMetadata, sendResponseMetadata } from '../request-metadata/grpc-metadata';
import { declaredTokenizer, deadlineOf, predictionMetadata, versionSelector } from '../request-metadata/request-metadata';
import { grpcOipInput } from './oip-raw';
import { Access } from '../control-plane/access.decorator';
import { AuthGuard } from '../control-plane/auth.guard';

/** Typed contents with every list empty; an answer fills the one its datatype uses. */
const NO_CONTENTS: inference.InferTensorContents = {
  boolContents: [],
  intContents: [],
  int64Contents: [],
  uintContents: [],
  uint64Contents: [],
  fp32Contents: [],
  fp64Contents: [],
  bytesContents: [],
};

/** inference.GRPCInferenceService: the Open Inference Protocol v2 over gRPC, for KServe and Triton clients. */
@Controller()
@UseFilters(CountingGrpcExceptionFilter)
// APP_GUARD covers REST only: a hybrid app's gRPC server needs the guard named here.
@UseGuards(AuthGuard)
@inference.GRPCInferenceServiceControllerMethods()
export class OipGrpcController implements inference.GRPCInferenceServiceController {
  constructor(
    private readonly predictions: PredictionService,
    private readonly info: ModelInfoService,
    private readonly readiness: ReadinessService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Access('public')
  serverLive(): inference.ServerLiveResponse {
    return { live: true };
  }

  @Access('public')
  async serverReady(): Promise<inference.ServerReadyResponse> {
    return { ready: (await this.readiness.check()).ready };
  }

  modelReady(request: inference.ModelReadyRequest): inference.ModelReadyResponse {
    if (!request.name) throw ServableError.invalid('name is required');
    return { ready: this.info.ready(request.name, { version: oipVersion(request.version) }) };
  }

  @Access('public')
  serverMetadata(): inference.ServerMetadataResponse {
    return { name: GATEWAY_NAME, version: GATEWAY_VERSION, extensions: [] };
  }

  modelMetadata(request: inference.ModelMetadataRequest): inference.ModelMetadataResponse {
    if (!request.name) throw ServableError.invalid('name is required');
    const { manifest, versions } = this.info.metadata(request.name, { version: oipVersion(request.version) });
    const { inputs, outputs } = oipSignature(manifest);
    const tensor = (t: { name: string; datatype: string; shape: number[] }) => ({ ...t, shape: t.shape.map(String) });
    return {
      name: manifest.name,
      versions: versions.map(String),
      platform: `servable_${manifest.framework ?? 'tfjs'}`,
      inputs: inputs.map(tensor),
      outputs: outputs.map(tensor),
    };
  }

  async modelInfer(request: inference.ModelInferRequest, metadata: Metadata, call?: unknown): Promise<inference.ModelInferResponse> {
    if (!request.modelName) throw ServableError.invalid('model_name is required');
    const raw = request.rawInputContents.length > 0;
    if (raw && request.rawInputContents.length !== request.inputs.length) {
      throw ServableError.invalid(`raw_input_contents has ${request.rawInputContents.length} entries for ${request.inputs.length} inputs`);
    }
    const inputs = request.inputs.map((t, i) => grpcOipInput(t, raw ? request.rawInputContents[i] : undefined));
    checkRequestedOutputs(request.outputs);
    const meta = grpcMetadata(metadata, call);
    const tokenizer = request.parameters['tokenizer'];
    // Another kind of value asked for the check and skipped it; a oneof member left out stays undefined.
    if (tokenizer && typeof tokenizer.stringParam !== 'string') {
      throw ServableError.invalid('parameters.tokenizer must be a string_param: the hash the ids were made with');
    }
    const declared = declaredTokenizer(meta, tokenizer?.stringParam);
    const outcome = await this.predictions.predict({
      api: 'grpc_oip',
      model: request.modelName,
      selector: versionSelector(meta, { version: oipVersion(request.modelVersion) }),
      input: oipModelInput(inputs, declared),
      deadline: deadlineOf(meta, this.config),
      context: grpcCallContext(metadata, call),
    });
    sendResponseMetadata(call, metadata, predictionMetadata(outcome));
    const output = { name: OIP_PROBABILITIES_OUTPUT, datatype: 'FP32', shape: [String(outcome.rows), String(outcome.classes)], parameters: {} };
    return {
      modelName: outcome.model,
      modelVersion: String(outcome.version),
      id: request.id,
      parameters: { tokenizer: { stringParam: outcome.tokenizer } },
      // Raw in, raw out (Triton's convention); typed contents otherwise.
      outputs: [raw ? output : { ...output, contents: { ...NO_CONTENTS, fp32Contents: Array.from(outcome.probabilities) } }],
      rawOutputContents: raw ? [float32ToBytes(outcome.probabilities)] : [],
    };
  }
}
