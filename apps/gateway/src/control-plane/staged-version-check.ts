import type { ModelManifest } from '@servable/model-repository';
import { checkTokenizerLoads } from './tokenizer-check';

/**
 * The upload's checks of a staged version, in order: its tokenizer.json loads and encodes
 * (checkTokenizerLoads), then the model loads and predicts (tfjsWarmUp). TF.js is imported here,
 * on the first check, never at the gateway's start. Run in a worker (warm-up-worker.ts), or in
 * the process when there is no bundle (model-check.ts).
 */
export async function checkStagedVersion(dir: string, manifest: ModelManifest, tokenizer: Uint8Array): Promise<void> {
  await checkTokenizerLoads(tokenizer, manifest);
  const { tfjsWarmUp } = await import('@servable/model-repository/tfjs');
  await tfjsWarmUp(dir, manifest);
}
