import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../database/database';
import { TestDatabase } from '../testing/test-database';

/**
 * Also the `migration:check` target (npm run db:check): the entities must match what the
 * migrations build. When they do not, the test prints the SQL TypeORM would run; with
 * SERVABLE_MIGRATION_NAME=<Name> it writes that SQL as a new migration file instead.
 */
describe('migrations', () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await TestDatabase.create();
  });
  afterAll(async () => {
    await testDb?.drop();
  });

  it('leave nothing pending between the entities and the schema they build', async () => {
    const db = await testDb.open();
    const sql = await db.dataSource.driver.createSchemaBuilder().log();
    const name = process.env['SERVABLE_MIGRATION_NAME'];
    if (sql.upQueries.length > 0 && name) {
      const ts = Date.now();
      const q = (s: string) => '`' + s.replace(/`/g, '\\`') + '`';
      const up = sql.upQueries.map((x) => `    await queryRunner.query(${q(x.query)});`).join('\n');
      const down = [...sql.downQueries].reverse().map((x) => `    await queryRunner.query(${q(x.query)});`).join('\n');
      const file = join(import.meta.dirname, `${ts}-${name}.ts`);
      writeFileSync(
        file,
        `import type { MigrationInterface, QueryRunner } from 'typeorm';\n\nexport class ${name}${ts} implements MigrationInterface {\n  name = '${name}${ts}';\n\n  async up(queryRunner: QueryRunner): Promise<void> {\n${up}\n  }\n\n  async down(queryRunner: QueryRunner): Promise<void> {\n${down}\n  }\n}\n`,
      );
      console.log(`wrote ${file}; add it to migrations/index.ts`);
    }
    expect(sql.upQueries.map((x) => x.query), 'entities differ from migrations; run with SERVABLE_MIGRATION_NAME=<Name> to generate one').toEqual([]);
  });

  it('run up, down to an empty schema, and up again', async () => {
    const db = await testDb.open();
    const tables = async () =>
      (
        await db.dataSource.query(
          `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name <> 'migrations' ORDER BY 1`,
        )
      ).map((r: { table_name: string }) => r.table_name);
    expect(await tables()).toContain('model_version');
    await db.revertAll();
    expect(await tables()).toEqual([]);
    await db.dataSource.runMigrations({ transaction: 'each' });
    expect(await tables()).toEqual(
      ['api_key', 'audit_event', 'canary_run', 'config_state', 'metric_bucket', 'model', 'model_version', 'rollout', 'tokenizer', 'version_label'],
    );
    expect((await db.dataSource.driver.createSchemaBuilder().log()).upQueries).toEqual([]);
  });

  // initdb, then two PGlite server processes one after the other: tens of seconds on a busy 2-core machine.
  // It opens PGlite by its directory, so it runs (and CI checks it) whether or not DATABASE_URL is set.
  it('keep PGlite data in its directory across a restart', { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'servable-pgdata-'));
    try {
      const first = await Database.open({ dataDir: dir });
      await first.dataSource.query(`INSERT INTO model (name) VALUES ('kept')`);
      await first.close();
      const second = await Database.open({ dataDir: dir });
      expect(await second.dataSource.query(`SELECT name FROM model`)).toEqual([{ name: 'kept' }]);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
