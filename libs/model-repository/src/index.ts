export { ModelRepository, loadTfModel } from './model-repository';
export { parseManifest, manifestSchema, type ModelManifest, type ManifestBatching, type TensorSpec } from './manifest';
export { FileSystemIOHandler, fileSystemIO } from './fs-io-handler';
export { HashedBigrams, HashedNgrams, MaskedPooling, registerCustomLayers } from './masked-layers';
export { initWasmBackend } from './tfjs-backend';
