import { Body, Controller, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { requestContextOf } from '@servable/observability';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { PredictionService } from '../inference/prediction.service';
import { httpMetadata, setResponseHeaders } from '../request-metadata/http-metadata';
import { deadlineOf, predictionMetadata, versionSelector } from '../request-metadata/request-metadata';
import { namedVersion, type HttpRequest, type ModelPath } from './http-request';
import { ClassifyRequestDto } from './inference.dto';
import { CLASSIFY_RESPONSE } from './openapi.schemas';
import { classifyExampleTexts, classifyResultTfServing } from './tfserving-shapes';

/** POST /v1/models/{model}[/versions/{v}|/labels/{l}]:classify — texts in, labels and scores out. */
@ApiTags('product')
@ApiHeader({ name: 'x-servable-version', required: false, description: 'Pin a version (or label) when the path names none' })
@ApiHeader({ name: 'x-request-timeout-ms', required: false, description: 'Deadline of this request (default REQUEST_TIMEOUT_MS)' })
@Controller()
export class ProductController {
  constructor(
    private readonly predictions: PredictionService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Post(['v1/models/:model\\:classify', 'v1/models/:model/versions/:version\\:classify', 'v1/models/:model/labels/:label\\:classify'])
  @HttpCode(200)
  @ApiOperation({ summary: 'Classify texts; {"texts"} gets the product answer, {"examples"} gets TF Serving\'s' })
  @ApiOkResponse({ schema: CLASSIFY_RESPONSE })
  async classify(@Param() path: ModelPath, @Body() body: ClassifyRequestDto, @Req() req: HttpRequest, @Res({ passthrough: true }) res: FastifyReply) {
    // The schema lets exactly one of the two through.
    const tfServing = body.examples !== undefined;
    const texts = body.examples ? classifyExampleTexts(body.examples, body.context) : (body.texts ?? []);
    const meta = httpMetadata(req);
    const { outcome, predictions } = await this.predictions.classify({
      api: tfServing ? 'tfserving' : 'product',
      model: path.model,
      selector: versionSelector(meta, namedVersion(path)),
      input: { kind: 'texts', texts },
      deadline: deadlineOf(meta, this.config),
      context: requestContextOf(req),
      truncate: body.truncate,
    });
    setResponseHeaders(res, predictionMetadata(outcome));
    if (tfServing) return classifyResultTfServing(outcome);
    return { predictions, model_version: String(outcome.version), tokenizer: outcome.tokenizer };
  }
}
