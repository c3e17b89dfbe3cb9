import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddCanaryRuns1796135029080 implements MigrationInterface {
  name = 'AddCanaryRuns1796135029080';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "canary_run" ("id" SERIAL NOT NULL, "model_id" integer NOT NULL, "stable_version" integer NOT NULL, "canary_version" integer NOT NULL, "state" character varying(16) NOT NULL, "steps" jsonb NOT NULL, "step_seconds" integer NOT NULL, "gates" jsonb NOT NULL, "sticky" boolean NOT NULL DEFAULT true, "mirror_share" double precision NOT NULL, "max_extensions" integer NOT NULL, "step_index" integer NOT NULL DEFAULT '0', "weight" double precision NOT NULL DEFAULT '0', "extensions" integer NOT NULL DEFAULT '0', "window_start" TIMESTAMP WITH TIME ZONE NOT NULL, "step_ends_at" TIMESTAMP WITH TIME ZONE NOT NULL, "checks" jsonb NOT NULL DEFAULT '[]', "reason" text, "started_by" character varying(160) NOT NULL, "started_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "finished_at" TIMESTAMP WITH TIME ZONE, "lease_owner" character varying(160), "lease_until" TIMESTAMP WITH TIME ZONE, CONSTRAINT "pk_canary_run" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_canary_run_model" ON "canary_run" ("model_id", "id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_canary_run_running" ON "canary_run" ("model_id") WHERE "state" = 'RUNNING'`);
    await queryRunner.query(`ALTER TABLE "metric_bucket" ADD "compare_requests" integer NOT NULL DEFAULT '0'`);
    await queryRunner.query(`ALTER TABLE "metric_bucket" ADD "compare_agreement_sum" double precision NOT NULL DEFAULT '0'`);
    await queryRunner.query(`ALTER TABLE "canary_run" ADD CONSTRAINT "fk_canary_run_model" FOREIGN KEY ("model_id") REFERENCES "model"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "canary_run" DROP CONSTRAINT "fk_canary_run_model"`);
    await queryRunner.query(`ALTER TABLE "metric_bucket" DROP COLUMN "compare_agreement_sum"`);
    await queryRunner.query(`ALTER TABLE "metric_bucket" DROP COLUMN "compare_requests"`);
    await queryRunner.query(`DROP INDEX "public"."uq_canary_run_running"`);
    await queryRunner.query(`DROP INDEX "public"."ix_canary_run_model"`);
    await queryRunner.query(`DROP TABLE "canary_run"`);
  }
}
