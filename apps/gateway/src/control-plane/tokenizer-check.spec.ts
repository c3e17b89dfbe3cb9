import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkTokenizerLoads } from './tokenizer-check';

const TOKENIZERS = join(import.meta.dirname, '../../../../models/tokenizers');
const shipped = readFileSync(join(TOKENIZERS, readdirSync(TOKENIZERS).find((f) => f.endsWith('.json'))!));
const facts = { tokenizer: { hash: '0'.repeat(64), vocab_size: 8000, pad_id: 0 } };

describe('checkTokenizerLoads', () => {
  it('passes the shipped tokenizer', async () => {
    await expect(checkTokenizerLoads(shipped, facts)).resolves.toBeUndefined();
  });

  it('refuses a tokenizer.json the library cannot load, though its JSON reads', async () => {
    const json = JSON.parse(shipped.toString());
    delete json.model.max_input_chars_per_word;
    await expect(checkTokenizerLoads(Buffer.from(JSON.stringify(json)), facts)).rejects.toThrow(
      /^tokenizer\.json does not load in the tokenizers library: .*max_input_chars_per_word/,
    );
  });

  it('refuses a tokenizer whose ids reach past vocab_size', async () => {
    await expect(checkTokenizerLoads(shipped, { tokenizer: { ...facts.tokenizer, vocab_size: 5 } })).rejects.toThrow(/encodes id \d+, not below servable\.json's tokenizer\.vocab_size 5/);
  });
});
