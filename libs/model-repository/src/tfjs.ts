// The parts of the model repository that run TensorFlow.js, apart from index.ts: loading
// @tensorflow/tfjs costs a process about 80 MB of memory (30 MB of it its source maps, kept
// under --enable-source-maps), and the gateway and tokenizer only read manifests and files.
// The gateway loads this in a worker thread for each model upload (tfjsWarmUp), inference and training at once.
export { loadTfModel } from './tf-model';
export { HashedBigrams, HashedNgrams, MaskedPooling, registerCustomLayers } from './masked-layers';
export { initWasmBackend } from './tfjs-backend';
export { tfjsWarmUp } from './tfjs-warm-up';
