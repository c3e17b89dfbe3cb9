import { ServableError } from '@servable/contracts';
import type { ModelManifest } from '@servable/model-repository';

/** Pad tokens by name, as `servable import` (tools/cli/lib/import.mjs) looks for them. */
const PAD_TOKENS = ['[PAD]', '<pad>', '<PAD>', '<|pad|>'];

interface TokenizerJson {
  model?: { vocab?: unknown };
  added_tokens?: Array<{ id?: unknown; content?: unknown }>;
  padding?: { pad_id?: unknown } | null;
}

/** What servable.json states about a tokenizer.json, read from the file itself. */
export interface TokenizerVocabulary {
  /** Highest id + 1: every id the tokenizer can produce is below it. */
  size: number;
  /** The `padding` section's pad_id, else a pad token's id; undefined when the file names none. */
  padId?: number;
}

/**
 * Reads a HuggingFace tokenizer.json the way `servable import` derives servable.json from it:
 * the ids of `model.vocab` (a token → id map for WordPiece, WordLevel and BPE; a list of
 * [piece, score] whose index is the id for Unigram) and of `added_tokens`. The highest id, not
 * the count, is what matters, since the gateway and inference refuse ids at or above vocab_size.
 */
export function tokenizerVocabulary(bytes: Uint8Array): TokenizerVocabulary {
  let t: TokenizerJson;
  try {
    t = (JSON.parse(Buffer.from(bytes).toString('utf8')) ?? {}) as TokenizerJson;
  } catch (err) {
    throw ServableError.invalid(`tokenizer.json is not JSON: ${(err as Error).message}`);
  }
  const vocab = t.model?.vocab;
  let size = 0;
  if (Array.isArray(vocab)) size = vocab.length;
  else if (vocab && typeof vocab === 'object') for (const id of Object.values(vocab)) if (Number.isInteger(id)) size = Math.max(size, (id as number) + 1);
  if (size === 0) throw ServableError.invalid('tokenizer.json has no model.vocab: is it a HuggingFace tokenizers file?');
  const added = new Map<string, number>();
  for (const token of t.added_tokens ?? []) {
    if (typeof token.content === 'string' && Number.isInteger(token.id)) added.set(token.content, token.id as number);
  }
  for (const id of added.values()) size = Math.max(size, id + 1);
  // Only added (special) tokens name the pad id, as in `servable import`, so a servable.json it
  // wrote is never refused here.
  const declared = t.padding?.pad_id;
  const padId = Number.isInteger(declared) ? (declared as number) : PAD_TOKENS.map((p) => added.get(p)).find((id) => id !== undefined);
  return { size, padId };
}

/**
 * servable.json must describe the tokenizer it pins. A vocab_size below the tokenizer's ids
 * makes the gateway refuse every text whose ids reach past it (400 on each request, long
 * after the upload said 201); one above it lets through ids the model's Embedding may have no
 * row for. The pad id is what inference pads batches with and what the gateway trims: it must
 * be the tokenizer's own. Throws INVALID_ARGUMENT naming both numbers.
 */
export function checkTokenizerMatches(manifest: ModelManifest, vocabulary: TokenizerVocabulary): void {
  const { vocab_size: declared, pad_id: pad } = manifest.tokenizer;
  if (declared !== vocabulary.size) {
    throw ServableError.invalid(
      `servable.json declares tokenizer.vocab_size ${declared} but tokenizer.json has ${vocabulary.size} ids (0..${vocabulary.size - 1}); vocab_size must be ${vocabulary.size}`,
    );
  }
  if (vocabulary.padId !== undefined && pad !== vocabulary.padId) {
    throw ServableError.invalid(`servable.json declares tokenizer.pad_id ${pad} but tokenizer.json pads with id ${vocabulary.padId}`);
  }
  if (pad >= vocabulary.size) {
    throw ServableError.invalid(`servable.json declares tokenizer.pad_id ${pad}, outside tokenizer.json's ${vocabulary.size} ids`);
  }
}
