import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let wasmReady: Promise<void> | undefined;

/**
 * Selects the WASM backend (XNNPACK, SIMD, single thread: multi-threaded WASM
 * does not work in Node). The .wasm files are read from the installed
 * package, never fetched. Idempotent.
 */
export function initWasmBackend(): Promise<void> {
  wasmReady ??= (async () => {
    // Bundled (CommonJS) code has require; ESM test runners resolve from the working directory.
    const resolve = typeof require === 'function' ? require.resolve : createRequire(join(process.cwd(), 'index.js')).resolve;
    setWasmPaths(dirname(resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + '/');
    if (!(await tf.setBackend('wasm'))) throw new Error('the TF.js WASM backend failed to initialise');
    await tf.ready();
  })();
  return wasmReady;
}
