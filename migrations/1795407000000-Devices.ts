import { MigrationInterface, QueryRunner } from 'typeorm';

export class Devices1795407000000 implements MigrationInterface {
  name = 'Devices1795407000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "devices" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "client_id" character varying(100) NOT NULL,
        "device_id" character varying(128) NOT NULL,
        "user_id" character varying(128) NOT NULL,
        "label" character varying(100),
        "key_version" integer NOT NULL,
        "key_generation" integer NOT NULL DEFAULT '0',
        "derived_key_hash" character(64) NOT NULL,
        "is_active" boolean NOT NULL DEFAULT true,
        "verified_at" TIMESTAMP WITH TIME ZONE,
        "last_used_step" bigint,
        "usage_count" bigint NOT NULL DEFAULT '0',
        "last_used_at" TIMESTAMP WITH TIME ZONE,
        "failed_attempts" integer NOT NULL DEFAULT '0',
        "locked_until" TIMESTAMP WITH TIME ZONE,
        "deactivated_at" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_devices" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_devices_key_version" CHECK ("key_version" >= 1 AND "key_generation" >= 0)
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_devices_client_device" ON "devices" ("client_id", "device_id")`);
    await queryRunner.query(`CREATE INDEX "IDX_devices_client_user" ON "devices" ("client_id", "user_id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "devices"`);
  }
}
