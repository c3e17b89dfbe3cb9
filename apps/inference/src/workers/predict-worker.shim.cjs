// Runs the TypeScript predict worker from source (tests, tools): worker threads
// cannot load .ts, so this registers SWC with the workspace's path aliases first.
// The esbuild bundle does not use it: dist/apps/inference/predict-worker.js is plain JS.
const { join } = require('node:path');
process.env.SWC_NODE_PROJECT ??= join(__dirname, '../../../../tsconfig.base.json');
require('@swc-node/register');
require('./predict-worker.ts');
