import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHIPPED_MODELS, copyRepository } from '@servable/persistence/testing';

const shippedV1 = JSON.parse(readFileSync(join(SHIPPED_MODELS, 'spam', '1', 'servable.json'), 'utf8')) as { tokenizer: { hash: string }; max_length: number };
const shippedTokenizer = readFileSync(join(SHIPPED_MODELS, 'tokenizers', `${shippedV1.tokenizer.hash}.json`));
/** v2's tokenizer in the test repository: the shipped one plus a trailing newline, so its bytes and hash differ from v1's. */
const tokenizerV2 = Buffer.concat([shippedTokenizer, Buffer.from('\n')]);

export const HASH_V1 = shippedV1.tokenizer.hash;
export const HASH_V2 = createHash('sha256').update(tokenizerV2).digest('hex');
/** The shipped versions' max_length (both versions read the same number of ids). */
export const MAX_LENGTH = shippedV1.max_length;

/**
 * A scratch copy of the shipped repository in which spam v2 is pinned to a tokenizer of its
 * own (HASH_V2), so tests can tell which tokenizer a version used and provoke a mismatch.
 */
export function gatewayTestRepository(): { root: string; remove(): void } {
  const repo = copyRepository();
  writeFileSync(join(repo.root, 'tokenizers', `${HASH_V2}.json`), tokenizerV2);
  const path = join(repo.root, 'spam', '2', 'servable.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8'));
  writeFileSync(path, JSON.stringify({ ...manifest, tokenizer: { ...manifest.tokenizer, hash: HASH_V2 } }, null, 2));
  return repo;
}
