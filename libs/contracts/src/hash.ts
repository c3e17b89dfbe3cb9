import { createHash } from 'node:crypto';

/** Lower-case hex sha256: the identity of a tokenizer file and of model artifacts. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}
