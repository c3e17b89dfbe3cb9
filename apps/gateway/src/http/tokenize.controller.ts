import { Body, Controller, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiTags, type SchemaObject } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ServableError } from '@servable/contracts';
import { requestContextOf } from '@servable/observability';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { textList } from '../inference/input-parsing';
import { TokenizeService, type TokenizeOutcome } from '../inference/tokenize.service';
import { deadlineOf, jsonObject, selectorOf, type HttpRequest, type ModelPath } from './http-request';

const TOKENIZE_BODY: SchemaObject = {
  type: 'object',
  required: ['texts'],
  properties: {
    texts: { type: 'array', items: { type: 'string' }, example: ['WIN a FREE prize now!!!'] },
    add_special_tokens: { type: 'boolean', default: true, description: "Apply the tokenizer's post-processor ([CLS] … [SEP] for BERT), as classify does" },
  },
};

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
  @ApiBody({ schema: TOKENIZE_BODY })
  @ApiOkResponse({ schema: TOKENIZE_RESPONSE })
  async tokenize(@Param() path: ModelPath, @Body() body: unknown, @Req() req: HttpRequest, @Res({ passthrough: true }) res: FastifyReply) {
    const json = jsonObject(body);
    if (!('texts' in json)) throw ServableError.invalid('missing "texts"');
    const special = json['add_special_tokens'];
    if (special !== undefined && typeof special !== 'boolean') throw ServableError.invalid(`add_special_tokens must be true or false, got ${JSON.stringify(special)}`);
    const outcome = await this.tokenizer.tokenize({
      model: path.model,
      selector: selectorOf(path, req),
      texts: textList(json['texts'], 'texts'),
      addSpecialTokens: special,
      deadline: deadlineOf(req, this.config),
      context: requestContextOf(req),
    });
    res.header('x-model-version', String(outcome.version));
    res.header('x-tokenizer', outcome.tokenizer);
    res.header('x-tokenization-time', outcome.tokenizationMs.toFixed(3));
    return tokenizeResponse(outcome);
  }
}
