import { parseManifest } from '@servable/model-repository';
import { describe, expect, it } from 'vitest';
import { checkTokenizerMatches, tokenizerVocabulary } from './tokenizer-vocabulary';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const declaring = (vocab_size: number, pad_id: number) =>
  parseManifest({
    format: 'servable.model/v1',
    name: 'toy',
    version: 1,
    framework: 'tfjs-layers',
    signature: { inputs: [{ name: 'input_ids', dtype: 'int32', shape: [-1, -1] }], outputs: [{ name: 'probabilities', dtype: 'float32', shape: [-1, 2] }] },
    labels: ['ham', 'spam'],
    tokenizer: { hash: 'a'.repeat(64), vocab_size, pad_id },
    max_length: 16,
  });

describe('a tokenizer.json against the servable.json that pins it', () => {
  it('counts ids up to the highest of model.vocab and added_tokens, for each model type', () => {
    // WordPiece: a token → id map, with a gap; the ids run to 9, so 10.
    expect(tokenizerVocabulary(json({ model: { type: 'WordPiece', vocab: { '[PAD]': 0, a: 1, b: 9 } }, added_tokens: [{ id: 0, content: '[PAD]' }] }))).toEqual({ size: 10, padId: 0 });
    // Unigram: [piece, score] pairs whose index is the id; an added token past the vocabulary counts.
    expect(tokenizerVocabulary(json({ model: { type: 'Unigram', vocab: [['<pad>', 0], ['a', -1], ['b', -2]] }, added_tokens: [{ id: 3, content: '<mask>' }] })).size).toBe(4);
    // The padding section's pad id wins over a pad token.
    expect(tokenizerVocabulary(json({ model: { vocab: { '<pad>': 0, x: 1, y: 2 } }, added_tokens: [{ id: 0, content: '<pad>' }], padding: { pad_id: 2 } })).padId).toBe(2);
    // A pad token only in the vocabulary names no pad id, as `servable import` reads it.
    expect(tokenizerVocabulary(json({ model: { vocab: { a: 0, '[PAD]': 1 } } })).padId).toBeUndefined();
    expect(() => tokenizerVocabulary(json({ not: 'a tokenizer' }))).toThrow('tokenizer.json has no model.vocab');
    expect(() => tokenizerVocabulary(Buffer.from('{'))).toThrow(/tokenizer\.json is not JSON/);
  });

  it('accepts the numbers servable.json should state, and refuses others naming both', () => {
    const vocabulary = { size: 8000, padId: 0 };
    expect(() => checkTokenizerMatches(declaring(8000, 0), vocabulary)).not.toThrow();
    expect(() => checkTokenizerMatches(declaring(100, 0), vocabulary)).toThrow('servable.json declares tokenizer.vocab_size 100 but tokenizer.json has 8000 ids');
    expect(() => checkTokenizerMatches(declaring(8000, 1), vocabulary)).toThrow('servable.json declares tokenizer.pad_id 1 but tokenizer.json pads with id 0');
    // A tokenizer that names no pad id: any id inside the vocabulary will do, none outside.
    expect(() => checkTokenizerMatches(declaring(8000, 7999), { size: 8000 })).not.toThrow();
    expect(() => checkTokenizerMatches(declaring(8000, 8000), { size: 8000 })).toThrow("tokenizer.pad_id 8000, outside tokenizer.json's 8000 ids");
  });
});
