import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Usage-limited keys get an owner: the API client that made them (`client_id`), or the admin
 * space (null) — every existing key lands there. Names are unique per owner (the admin space
 * is `''` in the index expression; a client id is never empty). Admin-space keys can be
 * assigned to people: a join table whose foreign keys drop an assignment with its key or its
 * person, so no id in it ever names nobody.
 */
export class UsageKeyTenancy1795412000000 implements MigrationInterface {
  name = 'UsageKeyTenancy1795412000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "usage_keys" ADD "client_id" character varying(100)`);
    await queryRunner.query(`DROP INDEX "UQ_usage_keys_name"`);
    // The name first, so a lookup by name alone (is this name anyone's?) uses the index too.
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_usage_keys_owner_name" ON "usage_keys" ("name", (coalesce("client_id", '')))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_usage_keys_client_name" ON "usage_keys" ("client_id", "name")`);
    await queryRunner.query(`
      CREATE TABLE "usage_key_assignments" (
        "key_id" uuid NOT NULL,
        "user_id" uuid NOT NULL,
        CONSTRAINT "PK_usage_key_assignments" PRIMARY KEY ("key_id", "user_id"),
        CONSTRAINT "FK_usage_key_assignments_key" FOREIGN KEY ("key_id") REFERENCES "usage_keys"("id") ON DELETE CASCADE,
        CONSTRAINT "FK_usage_key_assignments_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_usage_key_assignments_user" ON "usage_key_assignments" ("user_id")`);
  }

  /** Fails (and changes nothing) while two owners hold the same name: it never picks which key to drop. */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "usage_key_assignments"`);
    await queryRunner.query(`DROP INDEX "IDX_usage_keys_client_name"`);
    await queryRunner.query(`DROP INDEX "UQ_usage_keys_owner_name"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_usage_keys_name" ON "usage_keys" ("name")`);
    await queryRunner.query(`ALTER TABLE "usage_keys" DROP COLUMN "client_id"`);
  }
}
