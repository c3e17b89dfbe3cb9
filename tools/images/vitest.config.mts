import { nodeProject } from '../../tools/vitest/node-project.mts';

// The image smoke tests start each image's real service (inference loads its models on WASM
// workers), one image at a time; `npm run images` builds what they test.
export default nodeProject(import.meta.dirname, {
  include: ['*.spec.mjs'],
  testTimeout: 60_000,
  hookTimeout: 180_000,
  fileParallelism: false,
});
