import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ServerResponse } from 'node:http';
import { ErrorCode, ServableError } from '@servable/contracts';
import { requestContextOf } from '@servable/observability';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { ReadinessService } from '../health/readiness.service';
import { flatten, oipModelInput, oipOutputs, oipSignature, oipVersion, type OipInput } from '../inference/oip-tensors';
import { PredictionService } from '../inference/prediction.service';
import { ModelInfoService } from '../models/model-info.service';
import { GATEWAY_NAME, GATEWAY_VERSION } from '../server-info';
import { deadlineOf, jsonObject, setTimingHeaders, tokenizerHeader, type HttpRequest } from './http-request';
import { OIP_INFER_BODY } from './openapi.schemas';
import { Access } from '../control-plane/access.decorator';

interface OipPath {
  model: string;
  version?: string;
}

function parseInputs(body: Record<string, unknown>): OipInput[] {
  const inputs = body['inputs'];
  if (!Array.isArray(inputs)) throw ServableError.invalid('"inputs" must be a list of tensors {name, shape, datatype, data}');
  return inputs.map((t, i) => {
    const tensor = jsonObject(t);
    const { name, datatype, shape } = tensor;
    if (typeof name !== 'string' || typeof datatype !== 'string' || !Array.isArray(shape)) {
      throw ServableError.invalid(`inputs[${i}] needs "name", "datatype" and "shape"`);
    }
    return { name, datatype, shape: shape.map(Number), data: flatten(tensor['data']) };
  });
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
    return { name: GATEWAY_NAME, version: GATEWAY_VERSION, extensions: [] };
  }

  @Get('health/live')
  @Access('public')
  live() {
    return { live: true };
  }

  @Get('health/ready')
  @Access('public')
  async ready(@Res({ passthrough: true }) res: ServerResponse) {
    const report = await this.readiness.check();
    if (!report.ready) {
      res.statusCode = 503;
      res.setHeader('retry-after', '1');
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
  modelReady(@Param() path: OipPath, @Res({ passthrough: true }) res: ServerResponse) {
    const ready = this.info.ready(path.model, { version: oipVersion(path.version) });
    if (!ready) {
      res.statusCode = 409;
      return { name: path.model, ready: false, error: 'model version is not loaded', code: ErrorCode.FAILED_PRECONDITION };
    }
    return { name: path.model, ready: true };
  }

  @Post(['models/:model/infer', 'models/:model/versions/:version/infer'])
  @HttpCode(200)
  @ApiOperation({ summary: 'Inference: a BYTES input of texts or an INT32 input of ids' })
  @ApiBody({ schema: OIP_INFER_BODY })
  async infer(@Param() path: OipPath, @Body() body: unknown, @Req() req: HttpRequest, @Res({ passthrough: true }) res: ServerResponse) {
    const json = jsonObject(body);
    const parameters = (typeof json['parameters'] === 'object' && json['parameters']) || {};
    const declared = (parameters as Record<string, unknown>)['tokenizer'];
    const outcome = await this.predictions.predict({
      api: 'oip',
      model: path.model,
      selector: { version: oipVersion(path.version), pin: req.headers['x-servable-version'] as string | undefined, headers: req.headers },
      input: oipModelInput(parseInputs(json), typeof declared === 'string' ? declared : tokenizerHeader(req)),
      deadline: deadlineOf(req, this.config),
      context: requestContextOf(req),
    });
    setTimingHeaders(res, outcome);
    return {
      model_name: outcome.model,
      model_version: String(outcome.version),
      ...(typeof json['id'] === 'string' ? { id: json['id'] } : {}),
      parameters: { tokenizer: outcome.tokenizer },
      outputs: oipOutputs(outcome),
    };
  }
}
