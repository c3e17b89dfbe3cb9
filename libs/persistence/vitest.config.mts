import { nodeProject } from '../../tools/vitest/node-project.mts';

export default nodeProject(import.meta.dirname);
