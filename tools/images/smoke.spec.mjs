// Smoke test of each image built by `npm run images`. Containers cannot run on these machines
// (the sandbox refuses setrlimit), but an image's filesystem can: the test creates a container,
// mounts its filesystem, binds /proc and /dev, and starts the image's own Entrypoint + Cmd with its
// Env, WorkingDir and User under chroot, in a network namespace of its own (so the fixed ports
// cannot collide with anything on the host). Needs root, podman and the images (npm run images):
// without them the tests skip, except under CI=true, where they fail.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectEngine, imageExists, imageName, inspectImage, run } from './engine.mjs';

const CI = process.env.CI === 'true';
const engine = detectEngine();
const unbuilt = engine ? ['gateway', 'tokenizer', 'inference'].filter((app) => !imageExists(engine, imageName(app))) : [];
const missing = !engine
  ? 'no container engine (apt-get install podman)'
  : process.getuid?.() !== 0
    ? 'not root (mounting an image filesystem and chroot need it)'
    : unbuilt.length
      ? `${unbuilt.map(imageName).join(', ')} not built (npm run images)`
      : null;
// CI builds the images first (.ci/run), so there a missing piece is a failure, never a skip.
if (missing && CI) throw new Error(`image smoke tests cannot run under CI=true: ${missing}`);
if (missing) console.warn(`images: smoke tests skipped: ${missing}`);

const IMAGES = [
  { app: 'gateway', port: 8501, extra: async (fetchIn) => expect((await fetchIn('/admin/')).body).toContain('<div id="root">') },
  { app: 'tokenizer', port: 9101 },
  { app: 'inference', port: 9102 },
];

// The root filesystem is read-only, as deploy/kubernetes runs it (readOnlyRootFilesystem); only
// what the manifests mount as emptyDir volumes is writable.
const WRITABLE = { gateway: ['/tmp', '/var/lib/servable'], tokenizer: ['/tmp'], inference: ['/tmp'] };
const appOf = (ref) => /servable-(\w+):/.exec(ref)[1];

/** The uid:gid an image's User names, resolved in its own /etc/passwd and /etc/group. */
function resolveUser(rootfs, user) {
  const [name = '0', group] = (user || '0').split(':');
  const lookup = (file, key) => {
    if (/^\d+$/.test(key)) return Number(key);
    const line = readFileSync(join(rootfs, 'etc', file), 'utf8').split('\n').find((l) => l.startsWith(`${key}:`));
    if (!line) throw new Error(`${key} is not in the image's /etc/${file}`);
    return Number(line.split(':')[2]);
  };
  const uid = lookup('passwd', name);
  const gid = group ? lookup('group', group) : Number(readFileSync(join(rootfs, 'etc/passwd'), 'utf8').split('\n').find((l) => l.split(':')[2] === String(uid))?.split(':')[3] ?? uid);
  return { uid, gid };
}

/** A container's filesystem on the host: podman mounts it; docker exports it into a directory. */
function mountImage(ref) {
  const id = run(engine, ['create', ref]).trim();
  if (engine === 'podman') return { id, rootfs: run('podman', ['mount', id]).trim(), release: () => run('podman', ['umount', id]) };
  const rootfs = mkdtempSync(join(tmpdir(), 'servable-smoke-'));
  run('sh', ['-c', `docker export "${id}" | tar -x -C "${rootfs}"`]);
  // --one-file-system: never into anything still mounted below it.
  return { id, rootfs, release: () => run('rm', ['-rf', '--one-file-system', rootfs]) };
}

/** Starts the image's command as the image would; resolves once /healthz answers 200. */
class ImageProcess {
  constructor(ref) {
    this.ref = ref;
    this.log = '';
    this.binds = [];
  }

  /** `env` is added to the image's own; `joinNetworkOf` shares another ImageProcess's namespace. */
  start({ env = {}, joinNetworkOf } = {}) {
    const { config } = inspectImage(engine, this.ref);
    this.config = config;
    this.mount = mountImage(this.ref);
    this.user = resolveUser(this.mount.rootfs, config.User);
    // A read-only view of the container's filesystem, with /proc, /dev and the volumes inside it.
    const rootfs = mkdtempSync(join(tmpdir(), 'servable-ro-'));
    this.root = rootfs;
    const mount = (args, at) => {
      run('mount', [...args, at]);
      this.binds.push(at);
    };
    mount(['--bind', this.mount.rootfs], rootfs);
    run('mount', ['-o', 'remount,bind,ro', rootfs]);
    for (const dir of ['proc', 'dev']) mount(['--bind', `/${dir}`], join(rootfs, dir));
    for (const dir of WRITABLE[appOf(this.ref)]) {
      // Like an emptyDir: /tmp sticky and open to all, a data directory owned by the pod's fsGroup.
      const options = dir === '/tmp' ? 'mode=1777' : `mode=0770,uid=${this.user.uid},gid=${this.user.gid}`;
      mount(['-t', 'tmpfs', '-o', `${options},size=256m`, 'tmpfs'], join(rootfs, dir));
    }
    const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
    const extra = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    const chroot = ['chroot', `--userspec=${this.user.uid}:${this.user.gid}`, rootfs, '/usr/bin/env', '-i', '-C', config.WorkingDir || '/', ...(config.Env ?? []), ...extra, ...argv];
    // sh brings up loopback in the new namespace, then execs chroot, which execs env, which execs
    // the command: the child's pid is the service's, so signals go to it as a kubelet's would.
    this.child = joinNetworkOf
      ? spawn('nsenter', [`--net=/proc/${joinNetworkOf.child.pid}/ns/net`, '--', ...chroot], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('unshare', ['--net', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...chroot], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.child.stdout, this.child.stderr]) stream.on('data', (d) => (this.log += d));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** A request inside the service's network namespace (host node, through nsenter). */
  async get(port, path, init = {}) {
    const script = `fetch('http://127.0.0.1:${port}${path}', ${JSON.stringify(init)}).then(async r => console.log(JSON.stringify({ status: r.status, body: await r.text() })), e => { console.log(JSON.stringify({ status: 0, body: String(e.cause ?? e) })); })`;
    const r = spawnSync('nsenter', [`--net=/proc/${this.child.pid}/ns/net`, process.execPath, '-e', script], { encoding: 'utf8', timeout: 10_000 });
    return JSON.parse(r.stdout.trim().split('\n').pop() || '{"status":0,"body":""}');
  }

  async waitFor(port, path, timeoutMs) {
    const until = Date.now() + timeoutMs;
    let last;
    while (Date.now() < until) {
      if (this.child.exitCode !== null) throw new Error(`${this.ref} exited (${this.child.exitCode}) before ${path} answered:\n${this.log.slice(-3000)}`);
      last = await this.get(port, path);
      if (last.status === 200) return last;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`${this.ref}: ${path} did not answer 200 within ${timeoutMs} ms (last: ${JSON.stringify(last)}):\n${this.log.slice(-3000)}`);
  }

  /** Real and effective uid/gid of the running service, from /proc. */
  ids() {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const field = (name) => status.split('\n').find((l) => l.startsWith(`${name}:`)).split(/\s+/).slice(1, 3).map(Number);
    return { uid: field('Uid'), gid: field('Gid'), name: /^Name:\s+(\S+)/m.exec(status)[1] };
  }

  async stop() {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
      this.stopped = await this.exited;
      clearTimeout(timer);
    }
    for (const dir of this.binds.reverse()) spawnSync('umount', ['-l', dir]);
    this.binds = [];
    // rmdir, never a recursive delete: should an unmount have failed, this refuses instead of
    // deleting the container's files (or /proc's) through the mount.
    if (this.root) spawnSync('rmdir', [this.root]);
    this.root = undefined;
    if (this.mount) {
      try {
        this.mount.release();
      } finally {
        spawnSync(engine, ['rm', '-f', this.mount.id], { stdio: 'ignore' });
        this.mount = undefined;
      }
    }
  }
}

describe.skipIf(missing)('images', () => {
  for (const { app, port, extra } of IMAGES) {
    describe(imageName(app), () => {
      const proc = new ImageProcess(imageName(app));

      beforeAll(async () => {
        proc.start();
        await proc.waitFor(port, '/healthz', 120_000);
      }, 180_000);

      afterAll(() => proc.stop(), 60_000);

      it('is labelled, and declares a non-root numeric user and an exec-form command', () => {
        const { config } = proc;
        expect(config.Labels['org.opencontainers.image.title']).toBe(`servable-${app}`);
        expect(config.Labels['org.opencontainers.image.version']).toBe(imageName(app).split(':')[1]);
        expect(config.User).toMatch(/^[1-9]\d*(:\d+)?$/);
        expect(config.Cmd[0]).toBe('node'); // exec form: node itself is PID 1 and gets SIGTERM
      });

      it(`answers /healthz on :${port}`, async () => {
        expect((await proc.get(port, '/healthz')).status).toBe(200);
        await extra?.((path) => proc.get(port, path));
      });

      it("runs as the image's non-root user", () => {
        const { uid, gid, name } = proc.ids();
        expect(name).toBe('node');
        expect(uid).toEqual([proc.user.uid, proc.user.uid]);
        expect(gid).toEqual([proc.user.gid, proc.user.gid]);
        expect(proc.user.uid).not.toBe(0);
      });

      it('shuts down on SIGTERM by itself, not by a SIGKILL after the grace period', async () => {
        await proc.stop();
        // Exit 0, or SIGTERM re-raised after the graceful close (NestJS' shutdown hooks do that).
        expect([{ code: 0, signal: null }, { code: null, signal: 'SIGTERM' }]).toContainEqual(proc.stopped);
      }, 60_000);
    });
  }
});

// The three images together, wired as the manifests wire them (here all on one loopback): the
// gateway image's own models and the inference image's default model answer a classify call.
describe.skipIf(missing)('the three images together', () => {
  const tokenizer = new ImageProcess(imageName('tokenizer'));
  const inference = new ImageProcess(imageName('inference'));
  const gateway = new ImageProcess(imageName('gateway'));
  const KEY = 'svb_smoke-test-admin-key-0123456789';

  beforeAll(async () => {
    tokenizer.start();
    inference.start({ joinNetworkOf: tokenizer });
    gateway.start({ joinNetworkOf: tokenizer, env: { SERVABLE_ADMIN_KEY: KEY } });
    await gateway.waitFor(8501, '/readyz', 150_000);
  }, 200_000);

  // Each waits SHUTDOWN_GRACE_MS after SIGTERM; together, that is paid once.
  afterAll(() => Promise.all([gateway.stop(), inference.stop(), tokenizer.stop()]), 120_000);

  it('classifies with the default spam model', async () => {
    let reply;
    // Ready means the gateway reaches both services; the reconcile loop may still be loading a version.
    for (let i = 0; i < 60; i++) {
      reply = await gateway.get(8501, '/v1/models/spam:classify', {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          texts: [
            'Congratulations! You have WON a FREE cruise. Click here now to claim your prize, limited offer!!!',
            "Hi Tom, can we move tomorrow's meeting to 3pm? I will bring the quarterly numbers.",
          ],
        }),
      });
      if (reply.status === 200) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(reply.status, reply.body).toBe(200);
    const body = JSON.parse(reply.body);
    expect(body.predictions.map((p) => p.label)).toEqual(['spam', 'ham']);
    expect(body.tokenizer).toMatch(/^[0-9a-f]{64}$/);
  }, 90_000);
});
