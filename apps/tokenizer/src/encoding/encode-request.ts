import { ServableError } from '@servable/contracts';
import type { servableTokenizerV1 } from '@servable/contracts/grpc';
import type { TokenizerConfig } from '../config/tokenizer.config';
import type { TruncationSide } from '../registry/tokenizer-handle';

export interface EncodeParams {
  tokenizerHash: string;
  texts: string[];
  maxLength: number;
  /** undefined: refuse texts that would need truncation. */
  side: TruncationSide | undefined;
  addSpecialTokens: boolean;
  truncation: servableTokenizerV1.Truncation;
}

/** Why a request was refused, as the metrics label it. */
export class InvalidInput extends ServableError {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(ServableError.invalid(message).code, message);
  }
}

/** Validates an Encode request before any work is done, naming what is wrong. */
export function validateEncodeRequest(req: servableTokenizerV1.EncodeRequest, config: TokenizerConfig): EncodeParams {
  const texts = req.texts ?? [];
  if (!req.tokenizerHash) throw new InvalidInput('missing_tokenizer', 'tokenizer_hash is required');
  if (texts.length === 0) throw new InvalidInput('empty_batch', 'texts is empty: send at least one text');
  if (texts.length > config.MAX_TEXTS_PER_REQUEST) {
    throw new InvalidInput('too_many_texts', `too many texts: ${texts.length} > MAX_TEXTS_PER_REQUEST ${config.MAX_TEXTS_PER_REQUEST}`);
  }
  for (let i = 0; i < texts.length; i++) {
    if (texts[i].length === 0) throw new InvalidInput('empty_text', `texts[${i}] is empty`);
    // UTF-16 length x3 bounds the UTF-8 size, so the exact count is only needed near the limit.
    if (texts[i].length * 3 > config.MAX_TEXT_BYTES) {
      const bytes = Buffer.byteLength(texts[i]);
      if (bytes > config.MAX_TEXT_BYTES) {
        throw new InvalidInput('text_too_long', `texts[${i}] is ${bytes} bytes, over MAX_TEXT_BYTES ${config.MAX_TEXT_BYTES}`);
      }
    }
  }
  if (req.maxLength > config.MAX_SEQUENCE_LENGTH) {
    throw new InvalidInput('max_length', `max_length ${req.maxLength} is over MAX_SEQUENCE_LENGTH ${config.MAX_SEQUENCE_LENGTH}`);
  }
  const side = req.truncation === 'TRUNCATION_LEFT' ? 'left' : req.truncation === 'TRUNCATION_NONE' ? undefined : 'right';
  return {
    tokenizerHash: req.tokenizerHash,
    texts,
    maxLength: req.maxLength ?? 0,
    side,
    addSpecialTokens: req.addSpecialTokens ?? true,
    truncation: req.truncation === 'TRUNCATION_UNSPECIFIED' ? 'TRUNCATION_RIGHT' : req.truncation,
  };
}
