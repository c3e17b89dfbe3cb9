import { Tokenizer } from 'tokenizers';

export type TruncationSide = 'right' | 'left';

/**
 * One loaded tokenizer.json. Truncation is mutable state on a native
 * Tokenizer, and encodeBatch runs on the libuv pool, so sharing one instance
 * between calls with different max_length would race. Each (max_length, side)
 * therefore gets its own instance, created once from the same bytes.
 */
export class TokenizerHandle {
  private readonly variants = new Map<string, Tokenizer>();
  readonly base: Tokenizer;
  readonly vocabSize: number;
  readonly padId: number;
  readonly unkId: number;
  readonly modelType: string;
  readonly loadedAt = Date.now();
  /** Ids the post-processor adds to a single sequence ([CLS] and [SEP] for BERT). */
  addedPerRow = 0;

  constructor(
    readonly hash: string,
    private readonly json: string,
  ) {
    this.base = Tokenizer.fromString(json);
    const parsed = JSON.parse(json) as { model?: { type?: string; unk_token?: string }; padding?: { pad_id?: number } };
    this.modelType = parsed.model?.type ?? 'unknown';
    this.vocabSize = this.base.getVocabSize(true);
    this.padId = parsed.padding?.pad_id ?? this.base.tokenToId('[PAD]') ?? 0;
    this.unkId = this.base.tokenToId(parsed.model?.unk_token ?? '[UNK]') ?? -1;
  }

  get sizeBytes(): number {
    return Buffer.byteLength(this.json);
  }

  async init(): Promise<this> {
    const [withSpecial, without] = await Promise.all([
      this.base.encode('', null, { addSpecialTokens: true }),
      this.base.encode('', null, { addSpecialTokens: false }),
    ]);
    this.addedPerRow = withSpecial.getLength() - without.getLength();
    return this;
  }

  /** A tokenizer that truncates to maxLength on the given side (0: never truncates). */
  variant(maxLength: number, side: TruncationSide): Tokenizer {
    if (maxLength === 0) return this.base;
    const key = `${maxLength}:${side}`;
    let tokenizer = this.variants.get(key);
    if (!tokenizer) {
      tokenizer = Tokenizer.fromString(this.json);
      // The binding's enum names ('Right') are refused at run time; the lower-case strings work.
      tokenizer.setTruncation(maxLength, { direction: side });
      this.variants.set(key, tokenizer);
    }
    return tokenizer;
  }
}
