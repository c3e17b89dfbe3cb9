import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where the predict worker is: beside main.js in the bundle (an extra esbuild
 * entry point), or the TypeScript source behind a JS shim when running from source.
 */
export function predictWorkerScript(): { path: string } {
  const bundled = join(__dirname, 'predict-worker.js');
  if (existsSync(bundled)) return { path: bundled };
  const shim = join(__dirname, 'predict-worker.shim.cjs');
  if (existsSync(shim)) return { path: shim };
  throw new Error(`predict worker not found beside ${__dirname}; build with \`npx nx build inference\``);
}
