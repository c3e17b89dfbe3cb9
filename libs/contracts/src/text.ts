import { ServableError } from './servable-error';

// ignoreBOM: a byte-order mark stays in the text; the JSON reader drops a leading one itself.
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Bytes as text, refusing what is not UTF-8. Buffer#toString put U+FFFD in place of invalid bytes
 * without a word, so a binary or Latin-1 payload was classified as if it were the text sent
 * (TEI and serde_json answer 422; TF Serving's string tensors are bytes, but its text models
 * decode them as UTF-8 and fail).
 */
export function utf8Text(bytes: Uint8Array, what: string): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    throw ServableError.invalid(`${what} is not valid UTF-8`);
  }
}

/** Whether a text holds no lone UTF-16 surrogate ("\ud800" in JSON): such a text has no UTF-8 form to tokenize. */
export function isWellFormedText(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}
