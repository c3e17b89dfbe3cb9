import { nodeProject } from '../../tools/vitest/node-project.mts';

// Renders the Kustomize base and overlays with kubectl and validates every object.
export default nodeProject(import.meta.dirname, { include: ['*.spec.mjs'] });
