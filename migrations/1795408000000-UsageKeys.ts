import { MigrationInterface, QueryRunner } from 'typeorm';

export class UsageKeys1795408000000 implements MigrationInterface {
  name = 'UsageKeys1795408000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "usage_keys" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" character varying(100) NOT NULL,
        "secret" text NOT NULL,
        "algorithm" character varying(8) NOT NULL DEFAULT 'sha1',
        "digits" smallint NOT NULL DEFAULT '6',
        "period" integer NOT NULL DEFAULT '30',
        "max_uses" integer NOT NULL DEFAULT '1',
        "usage_count" integer NOT NULL DEFAULT '0',
        "expires_at" TIMESTAMP WITH TIME ZONE,
        "last_used_at" TIMESTAMP WITH TIME ZONE,
        "created_by" character varying(128),
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_usage_keys" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_usage_keys_max_uses" CHECK ("max_uses" = -1 OR "max_uses" >= 1),
        CONSTRAINT "CHK_usage_keys_usage_count" CHECK ("usage_count" >= 0)
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_usage_keys_name" ON "usage_keys" ("name")`);

    await queryRunner.query(`
      CREATE TABLE "usage_key_events" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "key_id" uuid NOT NULL,
        "outcome" character varying(16) NOT NULL,
        "actor_type" character varying(16) NOT NULL,
        "actor_id" character varying(128),
        "usage_count" integer NOT NULL,
        "ip" character varying(64),
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_usage_key_events" PRIMARY KEY ("id"),
        CONSTRAINT "FK_usage_key_events_key" FOREIGN KEY ("key_id") REFERENCES "usage_keys"("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_usage_key_events_key" ON "usage_key_events" ("key_id", "id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "usage_key_events"`);
    await queryRunner.query(`DROP TABLE "usage_keys"`);
  }
}
