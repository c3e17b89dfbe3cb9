import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ErrorCode, ServableError } from '@servable/contracts';
import { ModelRepository, fileSystemIO, parseManifest } from '@servable/model-repository';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { AuditService } from '../audit/audit.service';
import { computeDesiredState, planReconcile } from '../control-plane/desired-state';
import type { Database } from '../database/database';
import { copyRepository, uploadOf } from '../testing/fixture-repository';
import { TestDatabase } from '../testing/test-database';
import { RegistryService } from './registry.service';
import { tfjsWarmUp } from '@servable/model-repository/tfjs';
import { cleanStaging } from './version-upload';

async function codeOf(p: Promise<unknown>): Promise<{ code: ErrorCode; message: string }> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ServableError);
  return { code: (err as ServableError).code, message: (err as ServableError).message };
}

type Manifest = Record<string, unknown> & { tokenizer: Record<string, unknown> };

/** Files of an upload with servable.json changed by `edit`. */
function withManifest(files: Array<{ name: string; bytes: Buffer }>, edit: (manifest: Manifest) => Record<string, unknown>) {
  return files.map((f) => (f.name === 'servable.json' ? { ...f, bytes: Buffer.from(JSON.stringify(edit(JSON.parse(f.bytes.toString())))) } : f));
}

describe('registry', () => {
  let testDb: TestDatabase;
  let db: Database;
  let repo: ReturnType<typeof copyRepository>;
  let registry: RegistryService;
  const count = async (table: string): Promise<number> => (await db.dataSource.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n;

  beforeAll(async () => {
    testDb = await TestDatabase.create();
    db = await testDb.open();
    repo = copyRepository();
    registry = new RegistryService(db.dataSource, new AuditService(db.dataSource), new ModelRepository(repo.root));
  });
  afterAll(async () => {
    await testDb?.drop();
    repo?.remove();
  });

  it('imports the model repository, and importing again changes nothing', async () => {
    const first = await registry.importRepository();
    expect(first.added).toEqual(['spam/1', 'spam/2']);
    expect(first.failed).toEqual([]);
    const snapshot = async () => ({
      models: await db.dataSource.query(`SELECT * FROM model ORDER BY id`),
      versions: await db.dataSource.query(`SELECT * FROM model_version ORDER BY id`),
      tokenizers: await db.dataSource.query(`SELECT * FROM tokenizer`),
      audit: await count('audit_event'),
      revision: (await db.dataSource.query(`SELECT revision FROM config_state`))[0].revision,
    });
    const before = await snapshot();
    const second = await registry.importRepository();
    expect(second.added).toEqual([]);
    expect(second.unchanged).toEqual(['spam/1', 'spam/2']);
    expect(await snapshot()).toEqual(before);

    const spam = await registry.getModel('spam');
    const v1 = spam.versions[0];
    expect(v1.state).toBe('START');
    expect(v1.artifactPath).toBe('spam/1');
    expect(v1.artifactSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(v1.tokenizerHash).toBe('f1ad517b8eb1b6d610ebf905ba0d7c847e9bb1d258f7aa267ba0be6c6c0f2b60');
    expect(v1.classLabels).toEqual(['ham', 'spam']);
    // Every split of servable.json's evaluation reaches the admin API.
    expect(v1.evaluation?.splits.map((s) => s.split)).toEqual(['test', 'test_short']);
    for (const s of v1.evaluation?.splits ?? []) expect(s).toMatchObject({ accuracy: expect.any(Number), f1: expect.any(Number), ece: expect.any(Number) });
    // A fresh model gets its versions pinned, so the reconcile loop has something to load.
    expect(spam.versions.map((v) => v.pinned)).toEqual([true, true]);
    // model_version.manifest is servable.json as parsed, nothing added: read back from the
    // snapshot, the same schema gives the same manifest the repository gives.
    const stored = (await db.dataSource.query(`SELECT version, manifest FROM model_version ORDER BY version`)) as Array<{ version: number; manifest: unknown }>;
    for (const row of stored) {
      const fromRepository = await new ModelRepository(repo.root).readManifest('spam', row.version);
      expect(row.manifest).toEqual(fromRepository);
      expect(parseManifest(row.manifest)).toEqual(fromRepository);
    }
    // Its first import points stable at the latest version, so a later upload takes no traffic by itself.
    expect(spam.labels).toEqual({ stable: 2 });
  });

  it('leaves out at start-up a version whose servable.json misstates its tokenizer, as an upload would be refused', async () => {
    const dir = join(repo.root, 'spam', '5');
    cpSync(join(repo.root, 'spam', '1'), dir, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(dir, 'servable.json'), 'utf8'));
    writeFileSync(join(dir, 'servable.json'), JSON.stringify({ ...manifest, version: 5, tokenizer: { ...manifest.tokenizer, vocab_size: 100 } }));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const report = await registry.importRepository();
    expect(report.added).toEqual([]);
    expect(report.failed).toEqual([{ version: 'spam/5', error: expect.stringMatching(/vocab_size 100 but tokenizer\.json has 8000 ids/) }]);
    expect((await registry.getModel('spam')).versions.map((v) => v.version)).toEqual([1, 2]);
  });

  it("cleans only stale staging at start-up: on a shared volume a young entry is another gateway's upload", async () => {
    const root = mkdtempSync(join(tmpdir(), 'staging-'));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    for (const name of ['crashed', 'in-progress']) mkdirSync(join(root, '.staging', name), { recursive: true });
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(join(root, '.staging', 'crashed'), twoHoursAgo, twoHoursAgo);
    await cleanStaging(root);
    expect(readdirSync(join(root, '.staging'))).toEqual(['in-progress']);
    await cleanStaging(join(root, 'no-repository-here'));
  });

  it('refuses a label on a version that is not AVAILABLE, and moves labels atomically', async () => {
    const refused = await codeOf(registry.setLabels('spam', { canary: 1 }, 'key:1:test'));
    expect(refused.code).toBe(ErrorCode.FAILED_PRECONDITION);
    expect(refused.message).toMatch(/AVAILABLE/);

    await registry.setState('spam', 1, 'AVAILABLE');
    await registry.setState('spam', 2, 'AVAILABLE');
    expect(await registry.setLabels('spam', { stable: 1, canary: 2 }, 'key:1:test')).toEqual({ canary: 2, stable: 1 });

    // One bad change in the set: none of it happens.
    await registry.setState('spam', 1, 'FAILED', 'worker crashed');
    const partial = await codeOf(registry.setLabels('spam', { stable: 2, canary: 1 }, 'key:1:test'));
    expect(partial.code).toBe(ErrorCode.FAILED_PRECONDITION);
    expect((await registry.getModel('spam')).labels).toEqual({ canary: 2, stable: 1 });

    expect((await codeOf(registry.setLabels('spam', { 'bad-label': 2 }, 'key:1:test'))).code).toBe(ErrorCode.INVALID_ARGUMENT);
    expect((await codeOf(registry.setLabels('spam', { stable: 9 }, 'key:1:test'))).code).toBe(ErrorCode.NOT_FOUND);

    expect(await registry.setLabels('spam', { stable: 2, canary: null }, 'key:1:test')).toEqual({ stable: 2 });
    // Changes that move nothing leave no audit event.
    expect(await registry.setLabels('spam', { ghost: null }, 'key:1:test')).toEqual({ stable: 2 });
    expect(await registry.setLabels('spam', { stable: 2 }, 'key:1:test')).toEqual({ stable: 2 });
    expect(await registry.setLabels('spam', {}, 'key:1:test')).toEqual({ stable: 2 });
    await registry.setState('spam', 1, 'AVAILABLE');
    const audit = await db.dataSource.query(`SELECT actor, before, after FROM audit_event WHERE action = 'label.set' ORDER BY id`);
    expect(audit).toEqual([
      { actor: 'key:1:test', before: { stable: 2 }, after: { canary: 2, stable: 1 } },
      { actor: 'key:1:test', before: { canary: 2, stable: 1 }, after: { stable: 2 } },
    ]);
  });

  it('refuses an upload whose tokenizer does not match, leaving no rows and no files', async () => {
    const upload = uploadOf(repo.root, 3);
    const rows = await count('model_version');
    const err = await codeOf(
      registry.registerVersion({ model: 'spam', files: upload.files, tokenizer: Buffer.from('{"not":"it"}') }, tfjsWarmUp, 'key:1:test'),
    );
    expect(err.code).toBe(ErrorCode.FAILED_PRECONDITION);
    expect(err.message).toMatch(/tokenizer mismatch/);
    expect(await count('model_version')).toBe(rows);
    expect(existsSync(join(repo.root, 'spam', '3'))).toBe(false);
    expect(readdirSync(repo.root).sort()).toEqual(['spam', 'tokenizers']);
  });

  it('refuses an upload whose servable.json misstates the tokenizer\'s vocabulary or pad id, naming both numbers', async () => {
    const upload = uploadOf(repo.root, 3);
    const rows = await count('model_version');
    const declaring = (tokenizer: Record<string, number>) =>
      codeOf(
        registry.registerVersion(
          { model: 'spam', files: withManifest(upload.files, (m) => ({ ...m, tokenizer: { ...m.tokenizer, ...tokenizer } })), tokenizer: upload.tokenizer },
          tfjsWarmUp,
          'key:1:test',
        ),
      );
    // Too small, every text with an id of 100 or more would be a 400; too large, the model gets ids it has no row for.
    expect(await declaring({ vocab_size: 100 })).toEqual({
      code: ErrorCode.INVALID_ARGUMENT,
      message: 'servable.json declares tokenizer.vocab_size 100 but tokenizer.json has 8000 ids (0..7999); vocab_size must be 8000',
    });
    expect((await declaring({ vocab_size: 9000 })).message).toMatch(/vocab_size 9000 but tokenizer\.json has 8000 ids/);
    expect(await declaring({ pad_id: 3 })).toEqual({ code: ErrorCode.INVALID_ARGUMENT, message: 'servable.json declares tokenizer.pad_id 3 but tokenizer.json pads with id 0' });
    expect(await count('model_version')).toBe(rows);
    expect(existsSync(join(repo.root, 'spam', '3'))).toBe(false);
  });

  it('refuses an upload whose model does not load, leaving no rows and no files', async () => {
    const upload = uploadOf(repo.root, 3);
    const files = upload.files.map((f) => (f.name.endsWith('.bin') ? { ...f, bytes: f.bytes.subarray(0, 100) } : f));
    const audits = await count('audit_event');
    const err = await codeOf(registry.registerVersion({ model: 'spam', files, tokenizer: upload.tokenizer }, tfjsWarmUp, 'key:1:test'));
    expect(err.code).toBe(ErrorCode.FAILED_PRECONDITION);
    expect(err.message).toMatch(/did not load/);
    expect(await db.dataSource.query(`SELECT version FROM model_version ORDER BY version`)).toEqual([{ version: 1 }, { version: 2 }]);
    expect(await count('audit_event')).toBe(audits);
    expect(existsSync(join(repo.root, 'spam', '3'))).toBe(false);
    expect(readdirSync(join(repo.root, '.staging'))).toEqual([]);
  });

  it('refuses a malformed signature before writing anything', async () => {
    const upload = uploadOf(repo.root, 3);
    const files = upload.files.map((f) =>
      f.name === 'servable.json'
        ? { ...f, bytes: Buffer.from(JSON.stringify({ ...JSON.parse(f.bytes.toString()), signature: { inputs: [{ name: 'x', dtype: 'int8' }], outputs: [] } })) }
        : f,
    );
    const err = await codeOf(registry.registerVersion({ model: 'spam', files, tokenizer: upload.tokenizer }, tfjsWarmUp, 'key:1:test'));
    expect(err.code).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(err.message).toMatch(/signature/);
  });

  it('refuses a file name with a path, and a file that is not part of the model, before writing anything', async () => {
    const upload = uploadOf(repo.root, 3);
    const extra = (name: string) => registry.registerVersion({ model: 'spam', files: [...upload.files, { name, bytes: Buffer.from('x') }], tokenizer: upload.tokenizer }, tfjsWarmUp, 'key:1:test');
    for (const name of ['../../escape', '/tmp/escape', '..\\escape', 'dir/servable.json']) {
      expect(await codeOf(extra(name)), name).toMatchObject({ code: ErrorCode.INVALID_ARGUMENT, message: `file name "${name}" is not a plain file name` });
    }
    expect(await codeOf(extra('notes.txt'))).toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
      message: '"notes.txt" is not part of the model: a version holds servable.json, model.json and the weight files model.json names',
    });
    expect(existsSync(join(repo.root, 'spam', '3'))).toBe(false);
    expect(readdirSync(join(repo.root, '.staging'))).toEqual([]);
  });

  it('registers a valid upload: files in place, row pinned, audited; the same version again is refused', async () => {
    // Without a stable label the model serves "latest" (v2): the upload must not take that over.
    await registry.setLabels('spam', { stable: null }, 'key:1:test');
    const fromRepo = uploadOf(repo.root, 3);
    // Only max_batch_size set: the stored manifest must not gain the other batching fields,
    // or inference's environment could never fill them in.
    const files = fromRepo.files.map((f) =>
      f.name === 'servable.json' ? { ...f, bytes: Buffer.from(JSON.stringify({ ...JSON.parse(f.bytes.toString()), batching: { max_batch_size: 8 } })) } : f,
    );
    const upload = { ...fromRepo, files };
    const v3 = await registry.registerVersion({ model: 'spam', ...upload }, tfjsWarmUp, 'key:1:test');
    const [{ manifest }] = await db.dataSource.query(`SELECT manifest FROM model_version WHERE version = 3`);
    expect(manifest.batching).toEqual({ max_batch_size: 8 });
    expect(v3).toMatchObject({ model: 'spam', version: 3, state: 'START', pinned: true, source: 'upload' });
    expect(readdirSync(join(repo.root, 'spam', '3')).sort()).toEqual(upload.files.map((f) => f.name).sort());
    expect(await db.dataSource.query(`SELECT actor, target, after->'stableLabel' AS stable FROM audit_event WHERE action = 'version.register'`)).toEqual([
      { actor: 'key:1:test', target: 'model:spam/3', stable: 2 },
    ]);
    expect((await registry.getModel('spam')).labels).toEqual({ stable: 2 });
    // The repository and the database agree: a later import sees v3 as already registered.
    expect((await registry.importRepository()).unchanged).toContain('spam/3');
    const again = await codeOf(registry.registerVersion({ model: 'spam', ...upload }, async () => undefined, 'key:1:test'));
    expect(again.code).toBe(ErrorCode.FAILED_PRECONDITION);
  });

  it('desires every version named by a label, rollout or pin, and unloads the rest', async () => {
    await registry.setPinned('spam', 1, false, 'key:2:ops');
    const desired = await computeDesiredState(db.dataSource, repo.root);
    expect(desired.versions.map((v) => [v.version, v.reasons])).toEqual([
      [2, ['label:stable', 'pin']],
      [3, ['pin']],
    ]);
    expect(desired.tokenizers).toEqual([
      { hash: 'f1ad517b8eb1b6d610ebf905ba0d7c847e9bb1d258f7aa267ba0be6c6c0f2b60', path: join(repo.root, 'tokenizers', 'f1ad517b8eb1b6d610ebf905ba0d7c847e9bb1d258f7aa267ba0be6c6c0f2b60.json') },
    ]);
    const plan = planReconcile(desired, [{ model: 'spam', version: 1 }, { model: 'spam', version: 2 }]);
    expect(plan.load.map((v) => v.version)).toEqual([3]);
    expect(plan.unload).toEqual([{ model: 'spam', version: 1 }]);
  });

  it('audits a pin change and does not audit a no-op', async () => {
    await registry.setPinned('spam', 3, false, 'key:2:ops');
    await registry.setPinned('spam', 3, false, 'key:2:ops');
    expect(await db.dataSource.query(`SELECT actor, target, before, after FROM audit_event WHERE action = 'version.pin' ORDER BY id`)).toEqual([
      { actor: 'key:2:ops', target: 'model:spam/1', before: { pinned: true }, after: { pinned: false } },
      { actor: 'key:2:ops', target: 'model:spam/3', before: { pinned: true }, after: { pinned: false } },
    ]);
  });

  it('keeps audit events append-only', async () => {
    await expect(db.dataSource.query(`DELETE FROM audit_event`)).rejects.toThrow(/append-only/);
    await expect(db.dataSource.query(`UPDATE audit_event SET actor = 'someone else'`)).rejects.toThrow(/append-only/);
  });

  it('answers a version beyond the int32 column as unknown (NOT_FOUND), not as a database error', async () => {
    expect(await codeOf(registry.setPinned('spam', 99_999_999_999, true, 'key:2:ops'))).toEqual({ code: ErrorCode.NOT_FOUND, message: 'model "spam" has no version 99999999999' });
    expect((await codeOf(registry.setLabels('spam', { beta: 99_999_999_999 }, 'key:2:ops'))).code).toBe(ErrorCode.NOT_FOUND);
  });

  it('answers two uploads of one version at once with one registration and one "already registered", never a database error', async () => {
    const upload = uploadOf(repo.root, 4);
    // Both uploads pass the existence check and wait in their warm-ups for each other, so
    // both reach the insert: the race that only the unique index decides.
    let arrived = 0;
    let release!: () => void;
    const bothWarm = new Promise<void>((resolve) => {
      release = resolve;
    });
    const validate = async () => {
      if (++arrived === 2) release();
      await bothWarm;
    };
    const results = await Promise.allSettled([0, 1].map(() => registry.registerVersion({ model: 'spam', ...upload }, validate, 'key:1:test', { pin: false })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
    expect(refused).toBeInstanceOf(ServableError);
    expect(refused).toMatchObject({ code: ErrorCode.FAILED_PRECONDITION, message: 'spam/4 is already registered; versions are immutable, upload a new version number' });
    expect(await db.dataSource.query(`SELECT version FROM model_version WHERE version = 4`)).toEqual([{ version: 4 }]);
    // The refused upload took nothing of the registered one's files with it.
    expect(readdirSync(join(repo.root, 'spam', '4')).sort()).toEqual(upload.files.map((f) => f.name).sort());
    expect(readdirSync(join(repo.root, '.staging'))).toEqual([]);
  });

  describe('a model whose sequence length is fixed', () => {
    const LENGTH = 64;
    /** A model that only takes rows of LENGTH ids (Flatten needs a known length), saved as an upload's files. */
    const fixedModel = async () => {
      const ids = tf.input({ shape: [LENGTH], dtype: 'int32' });
      const embedded = tf.layers.embedding({ inputDim: 8000, outputDim: 2 }).apply(ids) as tf.SymbolicTensor;
      const flat = tf.layers.flatten().apply(embedded) as tf.SymbolicTensor;
      const model = tf.model({ inputs: ids, outputs: tf.layers.dense({ units: 2, activation: 'softmax' }).apply(flat) as tf.SymbolicTensor });
      const dir = mkdtempSync(join(tmpdir(), 'fixed-'));
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      await model.save(fileSystemIO(dir));
      return readdirSync(dir).map((name) => ({ name, bytes: readFileSync(join(dir, name)) }));
    };
    const uploadFixed = async (version: number, sequence: number) => {
      const shipped = uploadOf(repo.root, 1);
      const servable = JSON.parse(readFileSync(join(repo.root, 'spam', '1', 'servable.json'), 'utf8')) as Manifest;
      const manifest = {
        format: 'servable.model/v1',
        name: 'fixed',
        version,
        framework: 'tfjs-layers',
        signature: {
          inputs: [{ name: 'input_ids', dtype: 'int32', shape: [-1, sequence] }],
          outputs: [{ name: 'probabilities', dtype: 'float32', shape: [-1, 2] }],
        },
        labels: ['ham', 'spam'],
        tokenizer: servable.tokenizer,
        max_length: LENGTH,
      };
      const files = [...(await fixedModel()), { name: 'servable.json', bytes: Buffer.from(JSON.stringify(manifest)) }];
      return registry.registerVersion({ model: 'fixed', files, tokenizer: shipped.tokenizer }, tfjsWarmUp, 'key:1:test');
    };

    it('registers it, warmed up at the length its signature fixes', async () => {
      expect(await uploadFixed(1, LENGTH)).toMatchObject({ model: 'fixed', version: 1, state: 'START' });
    });

    it('refuses a signature that leaves the length free or fixes another: inference pads batches to what the signature says', async () => {
      const free = await codeOf(uploadFixed(2, -1));
      expect(free.code).toBe(ErrorCode.FAILED_PRECONDITION);
      expect(free.message).toContain(`the model's input takes exactly 64 ids, but servable.json's signature leaves it free: declare the input's shape as [-1, 64]`);
      // Shorter than max_length (64) is refused by servable.json's own checks, before the model is loaded.
      const short = await codeOf(uploadFixed(3, 32));
      expect(short.code).toBe(ErrorCode.INVALID_ARGUMENT);
      expect(short.message).toContain('max_length 64 is over the sequence length 32 that input input_ids fixes');
    });
  });
});
