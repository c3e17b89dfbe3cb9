import type { TokenizedText } from '../api/playground-api';

export interface TokenChipsProps {
  text: string;
  tokenized: TokenizedText;
  maxLength: number;
}

/** The tokens as chips, in order: special tokens muted, [UNK] marked, a cut at max_length said in words. */
export function TokenChips({ text, tokenized, maxLength }: TokenChipsProps) {
  const unknown = tokenized.tokens.filter((t) => t.unknown);
  return (
    <div className="token-chips">
      <p className="small muted">
        {tokenized.tokens.length} tokens
        {unknown.length > 0 && (
          <>
            {' · '}
            <span className="unk-count">
              {unknown.length} unknown ({unknown.map((t) => `“${text.slice(t.start, t.end)}”`).join(', ')})
            </span>
          </>
        )}
      </p>
      <ol className="tokens" aria-label="Tokens">
        {tokenized.tokens.map((t, i) => {
          const source = t.special ? 'added by the tokenizer' : `“${text.slice(t.start, t.end)}”`;
          const kind = t.unknown ? ' token-unk' : t.special ? ' token-special' : '';
          return (
            <li key={i} className={`chip token${kind}`} title={`id ${t.id} · ${source}`}>
              {t.token}
            </li>
          );
        })}
        {tokenized.truncated && (
          <li className="chip token token-cut" aria-label="truncated here">
            ✂ cut
          </li>
        )}
      </ol>
      {tokenized.truncated && (
        <p className="badge badge-warn">Truncated at max_length {maxLength}: the model never saw the rest of the text</p>
      )}
    </div>
  );
}
