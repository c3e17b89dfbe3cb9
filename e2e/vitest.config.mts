import { nodeProject } from '../tools/vitest/node-project.mts';

// The suite starts real processes: one file at a time (they would fight over
// 2 cores otherwise), and timeouts that allow a cold model load.
export default nodeProject(import.meta.dirname, {
  include: ['src/**/*.e2e.spec.ts'],
  testTimeout: 60_000,
  hookTimeout: 240_000,
  fileParallelism: false,
  pool: 'forks',
});
