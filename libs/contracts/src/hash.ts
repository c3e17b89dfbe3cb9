import { hash } from 'node:crypto';

/** Lower-case hex sha256: the identity of a tokenizer file and of model artifacts, and how API keys are stored. */
export function sha256Hex(bytes: Uint8Array | string): string {
  // The one-shot form: no Hash object per call, which matters on the gateway's per-request key check.
  return hash('sha256', bytes, 'hex');
}
