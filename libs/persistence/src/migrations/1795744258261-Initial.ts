import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1795744258261 implements MigrationInterface {
  name = 'Initial1795744258261';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "api_key" ("id" SERIAL NOT NULL, "name" character varying(128) NOT NULL, "prefix" character varying(16) NOT NULL, "key_hash" character(64) NOT NULL, "role" character varying(16) NOT NULL, "created_by" character varying(160) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "uq_api_key_hash" UNIQUE ("key_hash"), CONSTRAINT "pk_api_key" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE TABLE "audit_event" ("id" SERIAL NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "actor" character varying(160) NOT NULL, "action" character varying(64) NOT NULL, "target" character varying(256) NOT NULL, "before" jsonb, "after" jsonb, CONSTRAINT "pk_audit_event" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_audit_event_at" ON "audit_event" ("at") `);
    await queryRunner.query(`CREATE TABLE "config_state" ("id" integer NOT NULL, "revision" integer NOT NULL DEFAULT '0', "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_config_state" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE TABLE "metric_bucket" ("bucket_start" TIMESTAMP WITH TIME ZONE NOT NULL, "model" character varying(128) NOT NULL, "version" integer NOT NULL, "requests" integer NOT NULL DEFAULT '0', "error_count" integer NOT NULL DEFAULT '0', "errors" jsonb NOT NULL DEFAULT '{}', "latency_counts" integer array NOT NULL, "latency_ms_sum" double precision NOT NULL DEFAULT '0', "tokenize_ms_sum" double precision NOT NULL DEFAULT '0', "tokenize_count" integer NOT NULL DEFAULT '0', "inference_ms_sum" double precision NOT NULL DEFAULT '0', "inference_count" integer NOT NULL DEFAULT '0', "batch_size_sum" double precision NOT NULL DEFAULT '0', "batch_count" integer NOT NULL DEFAULT '0', "cache_hits" integer NOT NULL DEFAULT '0', "cache_lookups" integer NOT NULL DEFAULT '0', "shadow_requests" integer NOT NULL DEFAULT '0', "shadow_agreement_sum" double precision NOT NULL DEFAULT '0', "shadow_latency_ms_sum" double precision NOT NULL DEFAULT '0', CONSTRAINT "pk_metric_bucket" PRIMARY KEY ("bucket_start", "model", "version"))`);
    await queryRunner.query(`CREATE INDEX "ix_metric_bucket_model" ON "metric_bucket" ("model", "version", "bucket_start") `);
    await queryRunner.query(`CREATE TABLE "model" ("id" SERIAL NOT NULL, "name" character varying(128) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "uq_model_name" UNIQUE ("name"), CONSTRAINT "pk_model" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE TABLE "tokenizer" ("hash" character(64) NOT NULL, "vocab_size" integer NOT NULL, "size_bytes" integer NOT NULL, "path" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_tokenizer" PRIMARY KEY ("hash"))`);
    await queryRunner.query(`CREATE TABLE "model_version" ("id" SERIAL NOT NULL, "model_id" integer NOT NULL, "version" integer NOT NULL, "framework" character varying(32) NOT NULL, "artifact_path" text NOT NULL, "artifact_sha256" character(64) NOT NULL, "tokenizer_hash" character(64) NOT NULL, "signature" jsonb NOT NULL, "class_labels" jsonb NOT NULL, "max_length" integer NOT NULL, "evaluation" jsonb, "manifest" jsonb NOT NULL, "state" character varying(16) NOT NULL DEFAULT 'START', "state_detail" text, "pinned" boolean NOT NULL DEFAULT false, "source" character varying(16) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_model_version" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_model_version" ON "model_version" ("model_id", "version") `);
    await queryRunner.query(`CREATE TABLE "rollout" ("model_id" integer NOT NULL, "stable_version" integer, "canary_version" integer, "canary_weight" double precision NOT NULL DEFAULT '0', "cohort_rules" jsonb NOT NULL DEFAULT '[]', "sticky" boolean NOT NULL DEFAULT true, "shadow_version" integer, "shadow_share" double precision NOT NULL DEFAULT '0', "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_rollout" PRIMARY KEY ("model_id"))`);
    await queryRunner.query(`CREATE TABLE "version_label" ("model_id" integer NOT NULL, "label" character varying(64) NOT NULL, "version_id" integer NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_version_label" PRIMARY KEY ("model_id", "label"))`);
    await queryRunner.query(`ALTER TABLE "model_version" ADD CONSTRAINT "fk_model_version_model" FOREIGN KEY ("model_id") REFERENCES "model"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "model_version" ADD CONSTRAINT "fk_model_version_tokenizer" FOREIGN KEY ("tokenizer_hash") REFERENCES "tokenizer"("hash") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "rollout" ADD CONSTRAINT "fk_rollout_model" FOREIGN KEY ("model_id") REFERENCES "model"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "version_label" ADD CONSTRAINT "fk_version_label_version" FOREIGN KEY ("version_id") REFERENCES "model_version"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    // Hand-written: the revision row the change notifier bumps, and audit rows that can only be added.
    await queryRunner.query(`INSERT INTO "config_state" ("id", "revision") VALUES (1, 0)`);
    await queryRunner.query(`CREATE FUNCTION "audit_event_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$`);
    await queryRunner.query(`CREATE TRIGGER "audit_event_append_only" BEFORE UPDATE OR DELETE ON "audit_event" FOR EACH ROW EXECUTE FUNCTION "audit_event_append_only"()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "audit_event_append_only" ON "audit_event"`);
    await queryRunner.query(`DROP FUNCTION "audit_event_append_only"()`);
    await queryRunner.query(`ALTER TABLE "version_label" DROP CONSTRAINT "fk_version_label_version"`);
    await queryRunner.query(`ALTER TABLE "rollout" DROP CONSTRAINT "fk_rollout_model"`);
    await queryRunner.query(`ALTER TABLE "model_version" DROP CONSTRAINT "fk_model_version_tokenizer"`);
    await queryRunner.query(`ALTER TABLE "model_version" DROP CONSTRAINT "fk_model_version_model"`);
    await queryRunner.query(`DROP TABLE "version_label"`);
    await queryRunner.query(`DROP TABLE "rollout"`);
    await queryRunner.query(`DROP INDEX "public"."uq_model_version"`);
    await queryRunner.query(`DROP TABLE "model_version"`);
    await queryRunner.query(`DROP TABLE "tokenizer"`);
    await queryRunner.query(`DROP TABLE "model"`);
    await queryRunner.query(`DROP INDEX "public"."ix_metric_bucket_model"`);
    await queryRunner.query(`DROP TABLE "metric_bucket"`);
    await queryRunner.query(`DROP TABLE "config_state"`);
    await queryRunner.query(`DROP INDEX "public"."ix_audit_event_at"`);
    await queryRunner.query(`DROP TABLE "audit_event"`);
    await queryRunner.query(`DROP TABLE "api_key"`);
  }
}
