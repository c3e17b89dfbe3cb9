import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Creates a new PGlite data directory in a short-lived process. PGlite's initdb grows its WASM
 * memory to about 800 MB, and WASM memory never shrinks: done in the PGlite server (or, before
 * it, the gateway) it would stay for the life of that process. Opening an initialised
 * directory takes about 150 MB (the server's RSS at idle is about 200 MB, Node included). An
 * existing directory is left alone.
 */
export function initPgliteDir(dir: string): void {
  if (existsSync(join(dir, 'PG_VERSION'))) return;
  // Resolved from here, so the child loads the very PGlite this process uses, wherever it runs from.
  const from = typeof __filename === 'string' ? __filename : join(process.cwd(), 'index.js');
  const entry = pathToFileURL(createRequire(from).resolve('@electric-sql/pglite')).href;
  const script = `const { PGlite } = await import(${JSON.stringify(entry)}); const db = await PGlite.create({ dataDir: process.argv[1] }); await db.close();`;
  execFileSync(process.execPath, ['--input-type=module', '-e', script, dir], { stdio: ['ignore', 'inherit', 'inherit'] });
}
