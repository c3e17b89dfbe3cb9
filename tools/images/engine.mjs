// The container engine `npm run images` and the smoke tests use: docker where a daemon
// answers, else podman. Shared so the test inspects the same store the build wrote.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const APPS = ['gateway', 'tokenizer', 'inference'];
export const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
export const imageName = (app) => `servable-${app}:${VERSION}`;

/** Runs a command and returns its stdout; throws with its stderr when it fails. */
export function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    const output = `${result.stderr ?? ''}${result.stdout ?? ''}`.trim().split('\n').slice(-20).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} exited with ${result.status}:\n${output}`);
  }
  return result.stdout ?? '';
}

const works = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 15_000 });
  return !r.error && r.status === 0;
};

/** 'docker' when a docker daemon answers, 'podman' when podman is installed, else null. */
export function detectEngine() {
  if (process.env.SERVABLE_IMAGE_ENGINE) return process.env.SERVABLE_IMAGE_ENGINE;
  if (works('docker', ['info'])) return 'docker';
  if (works('podman', ['--version'])) return 'podman';
  return null;
}

export function imageExists(engine, ref) {
  return works(engine, ['image', 'inspect', ref]);
}

/** `<engine> image inspect` of one image: Config (Entrypoint, Cmd, Env, WorkingDir, User, Labels) and Size. */
export function inspectImage(engine, ref) {
  const [info] = JSON.parse(run(engine, ['image', 'inspect', ref]));
  return { config: info.Config ?? {}, size: info.Size ?? info.VirtualSize ?? 0, id: info.Id };
}
