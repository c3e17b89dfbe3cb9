import { Body, Controller, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags, type SchemaObject } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { requestContextOf } from '@servable/observability';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { TokenizeService, type TokenizeOutcome } from '../inference/tokenize.service';
import { httpMetadata, setResponseHeaders } from '../request-metadata/http-metadata';
import { deadlineOf, tokenizationMetadata, versionSelector } from '../request-metadata/request-metadata';
import { namedVersion, type HttpRequest, type ModelPath } from './http-request';
import { TokenizeRequestDto } from './inference.dto';

const TOKEN: SchemaObject = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    token: { type: 'string' },
    start: { type: 'integer', description: 'Offset into the text in UTF-16 code units (JavaScript string index); 0 for a special token' },
    end: { type: 'integer', description: 'Exclusive end: text.slice(start, end) is the source of the token' },
    special: { type: 'boolean', description: 'Added by the post-processor, not read from the text' },
    unknown: { type: 'boolean', description: "The tokenizer's unknown token: the vocabulary lacks this piece of text" },
  },
};

const TOKENIZE_RESPONSE: SchemaObject = {
  type: 'object',
  properties: {
    results: { type: 'array', items: { type: 'object', properties: { tokens: { type: 'array', items: TOKEN }, truncated: { type: 'boolean' } } } },
    model_version: { type: 'string' },
    tokenizer: { type: 'string' },
    max_length: { type: 'integer', description: "The version's max_length, special tokens included; 0: no limit" },
    add_special_tokens: { type: 'boolean' },
  },
};

/** The REST answer: one entry per text, in order, with what applied to all of them. */
export function tokenizeResponse(outcome: TokenizeOutcome) {
  return {
    results: outcome.texts.map((t) => ({
      tokens: (t.tokens ?? []).map(({ id, token, start, end, special, unknown }) => ({ id, token, start, end, special, unknown })),
      truncated: t.truncated,
    })),
    model_version: String(outcome.version),
    tokenizer: outcome.tokenizer,
    max_length: outcome.maxLength,
    add_special_tokens: outcome.addSpecialTokens,
  };
}

/** POST /v1/models/{model}[/versions/{v}|/labels/{l}]:tokenize — what the version's tokenizer makes of texts. */
@ApiTags('product')
@ApiHeader({ name: 'x-servable-version', required: false, description: 'Pin a version (or label) when the path names none' })
@Controller()
export class TokenizeController {
  constructor(
    private readonly tokenizer: TokenizeService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Post(['v1/models/:model\\:tokenize', 'v1/models/:model/versions/:version\\:tokenize', 'v1/models/:model/labels/:label\\:tokenize'])
  @HttpCode(200)
  @ApiOperation({ summary: "Tokens, ids and offsets from the tokenizer pinned to the version classify would use" })
  @ApiOkResponse({ schema: TOKENIZE_RESPONSE })
  async tokenize(@Param() path: ModelPath, @Body() body: TokenizeRequestDto, @Req() req: HttpRequest, @Res({ passthrough: true }) res: FastifyReply) {
    const meta = httpMetadata(req);
    const outcome = await this.tokenizer.tokenize({
      model: path.model,
      selector: versionSelector(meta, namedVersion(path)),
      texts: body.texts,
      addSpecialTokens: body.add_special_tokens,
      deadline: deadlineOf(meta, this.config),
      context: requestContextOf(req),
    });
    setResponseHeaders(res, tokenizationMetadata(outcome));
    return tokenizeResponse(outcome);
  }
}
