import { nodeProject } from '../../tools/vitest/node-project.mts';

// Tests of the benchmarks' own tooling (the gRPC frames h2load sends, the report generator); the
// benchmarks themselves run with `npm run bench`, never under the test runner.
export default nodeProject(import.meta.dirname, { include: ['*.spec.mjs'] });
