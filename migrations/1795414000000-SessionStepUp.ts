import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When the session last re-authenticated (password, plus the TOTP when MFA is on):
 * revealing or replacing a secret needs a recent one. Read with the session on every
 * access-token check, so the step-up rule costs no extra query.
 */
export class SessionStepUp1795414000000 implements MigrationInterface {
  name = 'SessionStepUp1795414000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" ADD "step_up_at" TIMESTAMP WITH TIME ZONE`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "step_up_at"`);
  }
}
