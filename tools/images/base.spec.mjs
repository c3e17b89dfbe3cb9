// The local base reads its Debian mirror from apt's configuration at run time (no mirror is ever
// committed): both source formats, with disabled and non-Debian entries around the right one.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { aptNodeCandidate, aptSources, debianMirror } from './base.mjs';

let etc;
function aptConfig(files) {
  etc = mkdtempSync(join(tmpdir(), 'servable-apt-'));
  mkdirSync(join(etc, 'sources.list.d'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(etc, name), text);
  return etc;
}
afterEach(() => rmSync(etc, { recursive: true, force: true }));

describe('the Debian mirror for the local base', () => {
  it('comes from a deb822 .sources file, skipping disabled stanzas and other suites', () => {
    const dir = aptConfig({
      'sources.list.d/debian.sources': [
        'Types: deb\nURIs: http://disabled.example.org/debian\nSuites: bookworm\nComponents: main\nEnabled: no',
        'Types: deb\n# a comment\nURIs: http://mirror.example.org/debian\nSuites: bookworm bookworm-updates\nComponents: main contrib\nSigned-By: /nonexistent/keyring.gpg',
        'Types: deb\nURIs: http://mirror.example.org/debian-security\nSuites: bookworm-security\nComponents: main',
      ].join('\n\n'),
      'sources.list.d/other.sources': 'Types: deb\nURIs: https://other.example.org/node\nSuites: nodistro\nComponents: main\n',
      'sources.list.d/ignored.sources.disabled': 'Types: deb\nURIs: http://never.example.org/\nSuites: bookworm\nComponents: main\n',
    });
    expect(aptSources(dir)).toHaveLength(3);
    // The keyring is passed on only where it exists.
    expect(debianMirror(aptSources(dir))).toEqual({ uri: 'http://mirror.example.org/debian', keyring: undefined });
  });

  it('comes from the one-line format, with options', () => {
    const dir = aptConfig({
      'sources.list': '# deb http://commented.example.org/debian bookworm main\ndeb-src http://src.example.org/debian bookworm main\ndeb [arch=amd64 signed-by=/nonexistent.gpg] http://line.example.org/debian bookworm main\n',
    });
    expect(debianMirror(aptSources(dir)).uri).toBe('http://line.example.org/debian');
  });

  it('is a clear error when apt has no bookworm main', () => {
    const dir = aptConfig({ 'sources.list': 'deb http://line.example.org/debian trixie main\n' });
    expect(() => debianMirror(aptSources(dir))).toThrow(/no apt source for "bookworm main"/);
  });
});

describe('Node 20 from apt', () => {
  const policy = (rows) => `nodejs:\n  Installed: x\n  Candidate: x\n  Version table:\n${rows}\n`;

  it('is taken from an enabled repository that offers 20.x', () => {
    const text = policy(
      [
        ' *** 20.20.2-1nodesource1 600',
        '        600 https://node.example.org/node_20.x nodistro/main amd64 Packages',
        '        100 /var/lib/dpkg/status',
        '     18.20.4+dfsg-1~deb12u2 500',
        '        500 http://mirror.example.org/debian bookworm/main amd64 Packages',
      ].join('\n'),
    );
    expect(aptNodeCandidate(text)).toBe('20.20.2-1nodesource1');
  });

  it('is not taken from a package that is only installed (its repository is disabled), nor from 18.x', () => {
    const text = policy(
      [
        ' *** 20.20.2-1nodesource1+repack1 100',
        '        100 /var/lib/dpkg/status',
        '     18.20.4+dfsg-1~deb12u2 500',
        '        500 http://mirror.example.org/debian bookworm/main amd64 Packages',
      ].join('\n'),
    );
    expect(aptNodeCandidate(text)).toBeNull();
    expect(aptNodeCandidate('N: Unable to locate package nodejs')).toBeNull();
  });
});
