import { Inject, Injectable } from '@nestjs/common';
import type { servableTokenizerV1 } from '@servable/contracts/grpc';
import type { Encoding } from 'tokenizers';
import { TOKENIZER_CONFIG, type TokenizerConfig } from '../config/tokenizer.config';
import { TokenizerMetrics } from '../metrics/tokenizer.metrics';
import { TokenizerRegistry } from '../registry/tokenizer-registry.service';
import { InvalidInput, validateEncodeRequest } from './encode-request';

/**
 * Tokenize: tokens, ids and offsets for a person to read (the console's playground,
 * `:tokenize`). It shares Encode's validation and tokenizer instances but never the
 * hot-text cache: a cache entry holds ids only, and a look at a text is not traffic,
 * so it must neither evict hot rows nor count as hits.
 */
@Injectable()
export class TokenizeService {
  constructor(
    @Inject(TOKENIZER_CONFIG) private readonly config: TokenizerConfig,
    private readonly registry: TokenizerRegistry,
    private readonly metrics: TokenizerMetrics,
  ) {}

  async tokenize(request: servableTokenizerV1.TokenizeRequest): Promise<servableTokenizerV1.TokenizeResponse> {
    let p;
    try {
      p = validateEncodeRequest(request, this.config);
    } catch (err) {
      if (err instanceof InvalidInput) this.metrics.invalidInputs.inc({ reason: err.reason });
      throw err;
    }
    const handle = this.registry.get(p.tokenizerHash);
    const variant = p.side ? handle.variant(p.maxLength, p.side) : handle.base;
    const options = { addSpecialTokens: p.addSpecialTokens };
    const encodings = await variant.encodeBatch(p.texts, options);
    // Only a row at the limit can have been cut. The binding reports overflow only when the
    // post-processor runs (add_special_tokens), so the row is encoded again uncut and compared.
    const atLimit = p.side && p.maxLength > 0 ? encodings.flatMap((enc, i) => (enc.getLength() === p.maxLength ? [i] : [])) : [];
    const full = atLimit.length ? await handle.base.encodeBatch(atLimit.map((i) => p.texts[i]), options) : [];
    const cut = new Set(atLimit.filter((_, j) => full[j].getLength() > p.maxLength));
    const texts = encodings.map((enc, i) => {
      const ids = enc.getIds();
      if (p.maxLength > 0 && !p.side && ids.length > p.maxLength) {
        throw new InvalidInput(
          'needs_truncation',
          `texts[${i}] encodes to ${ids.length} ids, over max_length ${p.maxLength}, and truncation is TRUNCATION_NONE`,
        );
      }
      return tokenizedText(p.texts[i], enc, handle.unkId, cut.has(i));
    });
    return { tokenizerHash: p.tokenizerHash, texts, maxLength: p.maxLength, addSpecialTokens: p.addSpecialTokens };
  }
}

function tokenizedText(text: string, enc: Encoding, unkId: number, truncated: boolean): servableTokenizerV1.TokenizedText {
  const ids = enc.getIds();
  const strings = enc.getTokens();
  const offsets = enc.getOffsets();
  const special = enc.getSpecialTokensMask();
  const toUtf16 = utf16Offsets(text);
  return {
    tokens: ids.map((id, j) => {
      const isSpecial = special[j] === 1;
      return {
        id,
        token: strings[j],
        start: isSpecial ? 0 : toUtf16(offsets[j][0]),
        end: isSpecial ? 0 : toUtf16(offsets[j][1]),
        special: isSpecial,
        unknown: id === unkId,
      };
    }),
    truncated,
  };
}

/**
 * The native tokenizer reports offsets in Unicode code points; JavaScript indexes
 * strings in UTF-16 code units, and the two differ after any character outside the
 * BMP (an emoji is one code point, two units). Maps code point offsets to units, so
 * `text.slice(start, end)` is the token's source text.
 */
export function utf16Offsets(text: string): (codePoint: number) => number {
  // Every unit is a code point unless the text has a surrogate pair: the common case costs nothing.
  if (!/[\uD800-\uDBFF]/.test(text)) return (cp) => cp;
  const units: number[] = [];
  let u = 0;
  for (const ch of text) {
    units.push(u);
    u += ch.length;
  }
  units.push(u);
  return (cp) => units[Math.min(cp, units.length - 1)];
}
