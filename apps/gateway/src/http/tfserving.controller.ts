import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { requestContextOf } from '@servable/observability';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { PredictionService } from '../inference/prediction.service';
import { ModelInfoService } from '../models/model-info.service';
import type { ModelManifest, TensorSpec } from '@servable/model-repository';
import { httpMetadata, setResponseHeaders } from '../request-metadata/http-metadata';
import { deadlineOf, declaredTokenizer, predictionMetadata, versionSelector } from '../request-metadata/request-metadata';
import { namedVersion, refuseGetOfVerb, type HttpRequest, type ModelPath } from './http-request';
import { PredictRequestDto } from './inference.dto';
import { parsePredictBody, predictResponse } from './tfserving-shapes';
import { REGRESS_UNSUPPORTED, TEXT_FEATURE } from '../grpc/tfserving/tfserving-tensors';
import { ServableError } from '@servable/contracts';

const TF_DTYPE: Record<string, string> = { int32: 'DT_INT32', float32: 'DT_FLOAT', string: 'DT_STRING' };

type Tensor = Pick<TensorSpec, 'name' | 'shape'> & { dtype: string };

function tensorInfo(t: Tensor) {
  return {
    dtype: TF_DTYPE[t.dtype] ?? `DT_${t.dtype.toUpperCase()}`,
    tensor_shape: { dim: t.shape.map((size) => ({ size: String(size), name: '' })), unknown_rank: false },
    name: t.name,
  };
}

/** servable.json's signature in the spirit of TF Serving's signature_def, with raw text (DT_STRING) besides the model's inputs, as over gRPC. */
function signatureDef(manifest: ModelManifest) {
  const byName = (ts: Tensor[]) => Object.fromEntries(ts.map((t) => [t.name, tensorInfo(t)]));
  const text: Tensor = { name: TEXT_FEATURE, dtype: 'string', shape: [-1] };
  return {
    signature_def: {
      serving_default: { inputs: byName([text, ...manifest.signature.inputs]), outputs: byName(manifest.signature.outputs), method_name: 'tensorflow/serving/predict' },
    },
  };
}

/** TF Serving's REST API: model status, metadata and predict. */
@ApiTags('tfserving')
@Controller()
export class TfServingController {
  constructor(
    private readonly predictions: PredictionService,
    private readonly info: ModelInfoService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Get(['v1/models/:model', 'v1/models/:model/versions/:version', 'v1/models/:model/labels/:label'])
  @ApiOperation({ summary: 'model_version_status of every version, or of the one the path names' })
  status(@Param() path: ModelPath) {
    refuseGetOfVerb(path);
    const { version, label } = namedVersion(path);
    const statuses = this.info.status(path.model, { version, label });
    return {
      model_version_status: statuses.map((s) => ({
        version: String(s.version),
        state: s.state,
        status: { error_code: s.errorCode, error_message: s.errorMessage },
        ...(s.labels.length ? { labels: s.labels } : {}),
        // Not in TF Serving (one process there): which inference replica holds the version, and why one failed.
        replicas: s.replicas,
      })),
    };
  }

  @Get(['v1/models/:model/metadata', 'v1/models/:model/versions/:version/metadata', 'v1/models/:model/labels/:label/metadata'])
  @ApiOperation({ summary: 'The signature of the version that would serve, as signature_def, with labels and the pinned tokenizer' })
  metadata(@Param() path: ModelPath, @Req() req: HttpRequest) {
    const { manifest } = this.info.metadata(path.model, versionSelector(httpMetadata(req), namedVersion(path)));
    return {
      model_spec: { name: manifest.name, signature_name: '', version: String(manifest.version) },
      metadata: { signature_def: signatureDef(manifest) },
      labels: manifest.labels,
      tokenizer: { hash: manifest.tokenizer.hash, vocab_size: manifest.tokenizer.vocab_size, pad_id: manifest.tokenizer.pad_id ?? 0 },
      max_length: manifest.max_length,
    };
  }

  /**
   * TF Serving's regress. Servable versions are classifiers, so, as TF Serving answers a model
   * without a regression signature (and as the gRPC Regress does), it is 400 for a model and
   * version that exist; a route that did not exist answered 404 "Cannot POST".
   */
  @Post(['v1/models/:model\\:regress', 'v1/models/:model/versions/:version\\:regress', 'v1/models/:model/labels/:label\\:regress'])
  @HttpCode(200)
  @ApiOperation({ summary: 'Regress: always 400, since a version is a classifier (use :classify or :predict)' })
  regress(@Param() path: ModelPath, @Req() req: HttpRequest): never {
    this.info.metadata(path.model, versionSelector(httpMetadata(req), namedVersion(path)));
    throw ServableError.invalid(REGRESS_UNSUPPORTED);
  }

  @Post(['v1/models/:model\\:predict', 'v1/models/:model/versions/:version\\:predict', 'v1/models/:model/labels/:label\\:predict'])
  @HttpCode(200)
  @ApiOperation({ summary: 'Predict from texts or int32 ids, in row ("instances") or columnar ("inputs") format' })
  async predict(@Param() path: ModelPath, @Body() body: PredictRequestDto, @Req() req: HttpRequest, @Res({ passthrough: true }) res: FastifyReply) {
    const meta = httpMetadata(req);
    const { input, format } = parsePredictBody(body, declaredTokenizer(meta));
    const outcome = await this.predictions.predict({
      api: 'tfserving',
      model: path.model,
      selector: versionSelector(meta, namedVersion(path)),
      input,
      deadline: deadlineOf(meta, this.config),
      context: requestContextOf(req),
    });
    setResponseHeaders(res, predictionMetadata(outcome));
    return predictResponse(outcome, format);
  }
}
