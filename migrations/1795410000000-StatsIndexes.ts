import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for the system statistics: OTP events by type (all-time and last 24 h from one
 * index-only pass) and usage-limited key uses in the last 24 h.
 */
export class StatsIndexes1795410000000 implements MigrationInterface {
  name = 'StatsIndexes1795410000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "IDX_otp_events_type_created" ON "otp_events" ("event_type", "created_at")`);
    await queryRunner.query(`CREATE INDEX "IDX_usage_key_events_created" ON "usage_key_events" ("created_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_usage_key_events_created"`);
    await queryRunner.query(`DROP INDEX "IDX_otp_events_type_created"`);
  }
}
