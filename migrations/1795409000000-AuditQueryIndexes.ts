import { MigrationInterface, QueryRunner } from 'typeorm';

/** Indexes for every audit query filter and for retention; the anchor table retention writes. */
export class AuditQueryIndexes1795409000000 implements MigrationInterface {
  name = 'AuditQueryIndexes1795409000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "IDX_audit_logs_created" ON "audit_logs" ("created_at", "id")`);
    await queryRunner.query(`CREATE INDEX "IDX_audit_logs_action_created" ON "audit_logs" ("action", "created_at")`);
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_logs_actor_type_created" ON "audit_logs" ("actor_type", "created_at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_logs_actor_id_created" ON "audit_logs" ("actor_id", "created_at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_logs_resource_created" ON "audit_logs" ("resource", "resource_id", "created_at")`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_audit_logs_status_created" ON "audit_logs" ("status", "created_at")`);
    await queryRunner.query(`CREATE INDEX "IDX_audit_logs_ip_created" ON "audit_logs" ("ip", "created_at")`);
    await queryRunner.query(`
      CREATE TABLE "audit_anchors" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "pruned_through_seq" bigint NOT NULL,
        "pruned_through_hash" character(64) NOT NULL,
        "pruned_rows" bigint NOT NULL,
        "cutoff" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_audit_anchors" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_audit_anchors_seq" ON "audit_anchors" ("pruned_through_seq")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "audit_anchors"`);
    for (const index of ['created', 'action', 'actor_type', 'actor_id', 'resource', 'status', 'ip']) {
      await queryRunner.query(`DROP INDEX "IDX_audit_logs_${index === 'created' ? index : `${index}_created`}"`);
    }
  }
}
