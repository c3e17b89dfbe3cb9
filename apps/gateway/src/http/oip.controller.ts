import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req, Res, StreamableFile } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ErrorCode, ServableError, shownValue } from '@servable/contracts';
import { requestContextOf } from '@servable/observability';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { ReadinessService } from '../health/readiness.service';
import { oipModelInput, oipSignature, oipVersion } from '../inference/oip-tensors';
import { PredictionService } from '../inference/prediction.service';
import { ModelInfoService } from '../models/model-info.service';
import { GATEWAY_NAME, GATEWAY_VERSION, OIP_REST_EXTENSIONS } from '../server-info';
import { httpMetadata, setResponseHeaders } from '../request-metadata/http-metadata';
import { deadlineOf, declaredTokenizer, predictionMetadata, versionSelector } from '../request-metadata/request-metadata';
import type { HttpRequest } from './http-request';
import { INFERENCE_HEADER, inferAnswer, parseInferInputs, requestedOutputs, splitInferBody } from './oip-binary';
import { InferRequestDto } from './inference.dto';
import { Access } from '../control-plane/access.decorator';

interface OipPath {
  model: string;
  version?: string;
}

/** The Open Inference Protocol v2 (KServe, Triton) over REST. */
@ApiTags('oip-v2')
@Controller('v2')
export class OipController {
  constructor(
    private readonly predictions: PredictionService,
    private readonly info: ModelInfoService,
    private readonly readiness: ReadinessService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Get()
  @Access('public')
  @ApiOperation({ summary: 'Server metadata' })
  serverMetadata() {
    return { name: GATEWAY_NAME, version: GATEWAY_VERSION, extensions: OIP_REST_EXTENSIONS };
  }

  @Get('health/live')
  @Access('public')
  live() {
    return { live: true };
  }

  @Get('health/ready')
  @Access('public')
  async ready(@Res({ passthrough: true }) res: FastifyReply) {
    const report = await this.readiness.check();
    if (!report.ready) {
      res.code(503);
      res.header('retry-after', '1');
      return { ready: false, error: 'not ready', code: ErrorCode.UNAVAILABLE, checks: report.checks };
    }
    return { ready: true };
  }

  @Get(['models/:model', 'models/:model/versions/:version'])
  @ApiOperation({ summary: 'Model metadata: versions, platform and the input/output tensors' })
  modelMetadata(@Param() path: OipPath) {
    const { manifest, versions } = this.info.metadata(path.model, { version: oipVersion(path.version) });
    return { name: manifest.name, versions: versions.map(String), platform: `servable_${manifest.framework ?? 'tfjs'}`, ...oipSignature(manifest) };
  }

  @Get(['models/:model/ready', 'models/:model/versions/:version/ready'])
  @ApiOperation({ summary: 'Whether the version that would serve is loaded (200) or not (409)' })
  modelReady(@Param() path: OipPath, @Res({ passthrough: true }) res: FastifyReply) {
    const ready = this.info.ready(path.model, { version: oipVersion(path.version) });
    if (!ready) {
      res.code(409);
      return { name: path.model, ready: false, error: 'model version is not loaded', code: ErrorCode.FAILED_PRECONDITION };
    }
    return { name: path.model, ready: true };
  }

  @Post(['models/:model/infer', 'models/:model/versions/:version/infer'])
  @HttpCode(200)
  @ApiOperation({ summary: 'Inference: a BYTES input of texts or an INT32 input of ids' })
  // Not the parameter's type: a binary request's body is bytes, which splitInferBody parses past the validation pipe.
  @ApiBody({ type: InferRequestDto })
  async infer(@Param() path: OipPath, @Body() body: unknown, @Req() req: HttpRequest, @Res({ passthrough: true }) res: FastifyReply) {
    const request = splitInferBody(body, req.headers[INFERENCE_HEADER]);
    const declared = request.json.parameters?.['tokenizer'];
    if (declared !== undefined && typeof declared !== 'string') {
      throw ServableError.invalid(`parameters.tokenizer must be a string (the hash the ids were made with), got ${shownValue(declared)}`);
    }
    const meta = httpMetadata(req);
    const { binary } = requestedOutputs(request.json);
    const outcome = await this.predictions.predict({
      api: 'oip',
      model: path.model,
      selector: versionSelector(meta, { version: oipVersion(path.version) }),
      input: oipModelInput(parseInferInputs(request), typeof declared === 'string' ? declared : declaredTokenizer(meta)),
      deadline: deadlineOf(meta, this.config),
      context: requestContextOf(req),
    });
    setResponseHeaders(res, predictionMetadata(outcome));
    const answer = inferAnswer(outcome, request.json, binary);
    if (!answer.binary) return answer.json;
    // Binary tensor data: the JSON header, then the output bytes; the header length tells a client where to split.
    const header = Buffer.from(JSON.stringify(answer.json));
    res.header(INFERENCE_HEADER, String(header.length));
    return new StreamableFile(Buffer.concat([header, answer.binary]), { type: 'application/octet-stream' });
  }
}
