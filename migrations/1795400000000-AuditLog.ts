import { MigrationInterface, QueryRunner } from 'typeorm';

export class AuditLog1795400000000 implements MigrationInterface {
  name = 'AuditLog1795400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "audit_logs" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "actor_type" character varying(16) NOT NULL,
        "actor_id" character varying(128),
        "action" character varying(64) NOT NULL,
        "resource" character varying(64),
        "resource_id" character varying(128),
        "status" character varying(16) NOT NULL,
        "ip" character varying(64),
        "user_agent" character varying(512),
        "request_id" character varying(128),
        "details" jsonb NOT NULL DEFAULT '{}',
        "seq" bigint,
        "prev_hash" character(64),
        "hash" character(64),
        CONSTRAINT "PK_audit_logs" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_audit_logs_seq" ON "audit_logs" ("seq")`);
    await queryRunner.query(`CREATE INDEX "IDX_audit_logs_unsealed" ON "audit_logs" ("id") WHERE hash IS NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "audit_logs"`);
  }
}
