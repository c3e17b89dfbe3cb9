import { bertNormalizer, bertPreTokenizer } from 'tokenizers';

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

export interface VocabularyOptions {
  size: number;
  /** A character must occur this often to get its own piece; rarer ones become [UNK]. */
  minCharCount: number;
  /** Share of the budget left to word-final pieces (##ing, ##ed, ...) for words outside the vocabulary. */
  suffixShare: number;
}

/**
 * A WordPiece vocabulary from the training texts, built deterministically:
 * the 5 special tokens first (so [PAD]=0 ... [MASK]=4 are stable), then
 * every frequent character both word-initial and as ##continuation (so any
 * word can be spelled), then frequent suffix pieces, then whole words by
 * frequency. Ties break by code point order, so a second run gives the same
 * file and the same hash. (The `tokenizers` trainer cannot fix the size or
 * the special tokens from Node, so the vocabulary is counted here and the
 * library is used for normalising, pre-tokenising and encoding.)
 */
export function buildVocabulary(texts: string[], options: VocabularyOptions): string[] {
  const normalizer = bertNormalizer({ lowercase: true, cleanText: true, handleChineseChars: true });
  const pre = bertPreTokenizer();
  const words = new Map<string, number>();
  for (const text of texts) {
    for (const [word] of pre.preTokenizeString(normalizer.normalizeString(text))) {
      words.set(word, (words.get(word) ?? 0) + 1);
    }
  }
  const byCount = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

  const chars = new Map<string, number>();
  for (const [w, n] of words) for (const c of w) chars.set(c, (chars.get(c) ?? 0) + n);
  const vocab: string[] = [...SPECIAL_TOKENS];
  const have = new Set(vocab);
  const add = (t: string) => {
    if (have.has(t) || vocab.length >= options.size) return;
    have.add(t);
    vocab.push(t);
  };
  for (const [c, n] of byCount(chars)) if (n >= options.minCharCount) add(c);
  for (const [c, n] of byCount(chars)) if (n >= options.minCharCount) add(`##${c}`);

  const wordBudget = Math.floor((options.size - vocab.length) * (1 - options.suffixShare));
  const ranked = byCount(words).filter(([w]) => w.length > 1);
  const chosen = ranked.slice(0, wordBudget);
  const chosenSet = new Set(chosen.map(([w]) => w));
  const suffixes = new Map<string, number>();
  for (const [w, n] of ranked) {
    if (chosenSet.has(w) || w.length < 4) continue;
    for (let k = 2; k <= 5 && k < w.length - 1; k++) {
      const s = `##${w.slice(-k)}`;
      suffixes.set(s, (suffixes.get(s) ?? 0) + n);
    }
  }
  for (const [w] of chosen) add(w);
  for (const [s] of byCount(suffixes)) add(s);
  return vocab;
}

/** A standard HuggingFace tokenizer.json (BERT normaliser and pre-tokenizer, WordPiece, [CLS] $A [SEP]). */
export function tokenizerJson(vocab: string[]): string {
  const ids = Object.fromEntries(vocab.map((t, i) => [t, i]));
  const special = (content: string) => ({
    id: ids[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return JSON.stringify(
    {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: SPECIAL_TOKENS.map(special),
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: {
        type: 'TemplateProcessing',
        single: [
          { SpecialToken: { id: '[CLS]', type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '[SEP]', type_id: 0 } },
        ],
        pair: [
          { SpecialToken: { id: '[CLS]', type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '[SEP]', type_id: 0 } },
          { Sequence: { id: 'B', type_id: 1 } },
          { SpecialToken: { id: '[SEP]', type_id: 1 } },
        ],
        special_tokens: {
          '[CLS]': { id: '[CLS]', ids: [ids['[CLS]']], tokens: ['[CLS]'] },
          '[SEP]': { id: '[SEP]', ids: [ids['[SEP]']], tokens: ['[SEP]'] },
        },
      },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: ids },
    },
    null,
    1,
  );
}
