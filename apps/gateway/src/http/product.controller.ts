import { Body, Controller, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ServableError } from '@servable/contracts';
import { requestContextOf } from '@servable/observability';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { textList } from '../inference/input-parsing';
import { PredictionService } from '../inference/prediction.service';
import { deadlineOf, jsonObject, selectorOf, setTimingHeaders, type HttpRequest, type ModelPath } from './http-request';
import { CLASSIFY_BODY, CLASSIFY_RESPONSE } from './openapi.schemas';
import { classifyResultTfServing, parseExamples } from './tfserving-shapes';

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
  @ApiBody({ schema: CLASSIFY_BODY })
  @ApiOkResponse({ schema: CLASSIFY_RESPONSE })
  async classify(@Param() path: ModelPath, @Body() body: unknown, @Req() req: HttpRequest, @Res({ passthrough: true }) res: FastifyReply) {
    const json = jsonObject(body);
    const tfServing = 'examples' in json;
    if (tfServing && 'texts' in json) throw ServableError.invalid('send either "texts" or "examples", not both');
    if (!tfServing && !('texts' in json)) throw ServableError.invalid('missing "texts" (or TF Serving\'s "examples")');
    const texts = tfServing ? parseExamples(json['examples']) : textList(json['texts'], 'texts');
    const { outcome, predictions } = await this.predictions.classify({
      api: tfServing ? 'tfserving' : 'product',
      model: path.model,
      selector: selectorOf(path, req),
      input: { kind: 'texts', texts },
      deadline: deadlineOf(req, this.config),
      context: requestContextOf(req),
    });
    setTimingHeaders(res.raw, outcome);
    if (tfServing) return classifyResultTfServing(outcome);
    return { predictions, model_version: String(outcome.version), tokenizer: outcome.tokenizer };
  }
}
