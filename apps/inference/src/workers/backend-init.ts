import * as tf from '@tensorflow/tfjs';
import type { BackendPreference } from './worker-protocol';

/** The native bindings are optional dependencies: load them only here, guarded, so their absence is fine. */
function tryRequire(name: string): unknown {
  try {
    // A plain require keeps them out of the bundle (they are marked external) and out of module init.
    return require(name);
  } catch {
    return undefined;
  }
}

async function useWasm(): Promise<string> {
  require('@tensorflow/tfjs-backend-wasm');
  // Multi-threaded TF.js WASM does not work in Node; every worker thread runs single-threaded SIMD instead.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (!(await tf.setBackend('wasm'))) throw new Error('the WASM backend failed to initialise');
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return simd ? 'wasm-simd' : 'wasm';
}

type TfNode = { loadSavedModel(dir: string): Promise<unknown> };
let native: { node?: TfNode } | undefined;

async function useNative(gpu: boolean): Promise<string | undefined> {
  const name = gpu ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  native = tryRequire(name) as typeof native;
  if (!native) return undefined;
  await tf.setBackend('tensorflow');
  await tf.ready();
  return gpu ? 'tensorflow-gpu' : 'tensorflow';
}

/** Picks this thread's backend: auto tries tfjs-node-gpu, then tfjs-node, then WASM (XNNPACK, SIMD). */
export async function initBackend(preference: BackendPreference): Promise<string> {
  switch (preference) {
    case 'tensorflow-gpu':
      return (await useNative(true)) ?? fail('@tensorflow/tfjs-node-gpu');
    case 'tensorflow':
      return (await useNative(false)) ?? fail('@tensorflow/tfjs-node');
    case 'wasm':
      return useWasm();
    case 'cpu':
      await tf.setBackend('cpu');
      await tf.ready();
      return 'cpu';
    case 'auto':
      return (await useNative(true)) ?? (await useNative(false)) ?? useWasm();
  }
}

function fail(pkg: string): never {
  throw new Error(`INFERENCE_BACKEND asks for ${pkg}, which is not installed; run \`npm install ${pkg}\` or set INFERENCE_BACKEND=auto`);
}

/** tf.node, present only with a native backend; it is what serves TF SavedModel directories. */
export function tfNode(): TfNode | undefined {
  return native?.node;
}
