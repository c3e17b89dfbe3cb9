import { nodeProject } from '../../tools/vitest/node-project.mts';

// Unit tests of the CLI's pieces; the commands against a running platform are tested in e2e/src/clients.e2e.spec.ts.
export default nodeProject(import.meta.dirname, { include: ['**/*.spec.mjs'] });
