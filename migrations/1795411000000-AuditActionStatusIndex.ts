import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Action and status together (failed sign-ins, refused authorizations: the common audit
 * dashboard queries): the page and its total come from the index alone instead of
 * re-checking thousands of rows.
 */
export class AuditActionStatusIndex1795411000000 implements MigrationInterface {
  name = 'AuditActionStatusIndex1795411000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_logs_action_status_created" ON "audit_logs" ("action", "status", "created_at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_audit_logs_action_status_created"`);
  }
}
