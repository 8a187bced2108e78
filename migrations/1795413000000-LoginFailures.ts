import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Failed sign-ins for login names no account has, by a hash of the name, so such a name locks
 * exactly like an account does (the 423 of a lock must not tell which names exist).
 */
export class LoginFailures1795413000000 implements MigrationInterface {
  name = 'LoginFailures1795413000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "login_failures" (
        "login_hash" character(64) NOT NULL,
        "failed_attempts" integer NOT NULL DEFAULT '0',
        "locked_until" TIMESTAMP WITH TIME ZONE,
        "last_failed_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_login_failures" PRIMARY KEY ("login_hash")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "login_failures"`);
  }
}
