import type { ModelManifest } from '@servable/model-repository';

/**
 * Loads an uploaded tokenizer.json with the HuggingFace tokenizers library, as the tokenizer
 * service will, and encodes a line with it. Reading its JSON (the upload's vocabulary and pad
 * checks) is not enough: a WordPiece model without max_input_chars_per_word parsed, uploaded
 * and showed AVAILABLE, and the tokenizer service refused it on every load, so every text sent
 * to the version failed (404 "tokenizer ... is not loaded").
 */
export async function checkTokenizerLoads(json: Uint8Array, manifest: Pick<ModelManifest, 'tokenizer'>): Promise<void> {
  const { Tokenizer } = await import('tokenizers');
  let ids: number[];
  try {
    const tokenizer = Tokenizer.fromString(Buffer.from(json).toString('utf8'));
    ids = (await tokenizer.encode('Servable checks that this tokenizer loads and encodes.', null, { addSpecialTokens: true })).getIds();
  } catch (err) {
    throw new Error(`tokenizer.json does not load in the tokenizers library: ${String((err as Error)?.message ?? err).split('\n')[0]}`);
  }
  const over = ids.find((id) => id >= manifest.tokenizer.vocab_size);
  if (over !== undefined) throw new Error(`tokenizer.json encodes id ${over}, not below servable.json's tokenizer.vocab_size ${manifest.tokenizer.vocab_size}`);
}
