import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex } from '@servable/contracts';

/**
 * The checksum of a version directory: sha256 over "name sha256(bytes)\n" for every
 * file, sorted by name. Renaming, adding or changing any file changes it.
 */
export async function artifactChecksum(dir: string): Promise<string> {
  const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name).sort();
  const outer = createHash('sha256');
  for (const name of names) outer.update(`${name} ${sha256Hex(await readFile(join(dir, name)))}\n`);
  return outer.digest('hex');
}

/** The same checksum over files held in memory (an upload before it is written). */
export function artifactChecksumOf(files: ReadonlyArray<{ name: string; bytes: Uint8Array }>): string {
  const outer = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    outer.update(`${f.name} ${sha256Hex(f.bytes)}\n`);
  }
  return outer.digest('hex');
}
