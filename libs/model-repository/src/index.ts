export { ModelRepository, existingRepositoryRoot } from './model-repository';
export { MAX_SEQUENCE_LENGTH, fixedSequenceLength, parseManifest, manifestSchema, type ModelManifest, type ManifestBatching, type TensorSpec } from './manifest';
export { FileSystemIOHandler, fileSystemIO } from './fs-io-handler';
// TensorFlow.js itself: '@servable/model-repository/tfjs' (tfjs.ts).
