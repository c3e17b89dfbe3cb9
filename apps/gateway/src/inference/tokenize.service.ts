import { Inject, Injectable } from '@nestjs/common';
import type { servableTokenizerV1 } from '@servable/contracts/grpc';
import type { RequestContext } from '@servable/observability';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { DownstreamService } from '../downstream/downstream.service';
import { ModelCatalog, type VersionSelector } from '../models/model-catalog.service';
import { assertBeforeDeadline } from '../request-metadata/deadline';
import { PredictionService, validateRows } from './prediction.service';

export interface TokenizeCommand {
  model: string;
  selector: VersionSelector;
  texts: string[];
  /** Default true: what classify feeds the model. */
  addSpecialTokens?: boolean;
  deadline: number;
  context: RequestContext;
}

export interface TokenizeOutcome {
  model: string;
  version: number;
  tokenizer: string;
  /** The version's max_length (special tokens included); 0 means no limit. */
  maxLength: number;
  addSpecialTokens: boolean;
  texts: servableTokenizerV1.TokenizedText[];
  tokenizationMs: number;
}

/**
 * `:tokenize`: what the tokenizer pinned to a version makes of texts. The version is
 * resolved exactly as classify resolves it (so a caller sees the tokens the model
 * would see), input is checked by the same rules, and the request takes a slot of
 * the same concurrency limit, since it costs the same tokenizer work.
 */
@Injectable()
export class TokenizeService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly catalog: ModelCatalog,
    private readonly downstream: DownstreamService,
    private readonly predictions: PredictionService,
  ) {}

  async tokenize(command: TokenizeCommand): Promise<TokenizeOutcome> {
    const release = this.predictions.tryAcquire();
    try {
      validateRows({ kind: 'texts', texts: command.texts }, this.config.MAX_TEXTS_PER_REQUEST);
      const { model, version, manifest } = this.catalog.resolve(command.model, command.selector);
      const tokenizer = manifest.tokenizer.hash;
      const addSpecialTokens = command.addSpecialTokens ?? true;
      assertBeforeDeadline(command.deadline, 'tokenization');
      const started = performance.now();
      const reply = await this.downstream.tokenize(
        tokenizer,
        command.texts,
        { maxLength: manifest.max_length, addSpecialTokens },
        command.deadline,
        command.context,
      );
      return {
        model,
        version,
        tokenizer,
        maxLength: manifest.max_length,
        addSpecialTokens,
        texts: reply.texts ?? [],
        tokenizationMs: performance.now() - started,
      };
    } finally {
      release();
    }
  }
}
