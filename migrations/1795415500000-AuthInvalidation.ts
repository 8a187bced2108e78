import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Announces, on the `auth_invalidate` channel, every change that ends or alters what a
 * credential may do: an API key revoked, rotated, re-scoped or deleted; a session revoked,
 * expired early, stepped up or deleted; an account disabled, deleted, renamed or given another
 * role. The instances cache API key and session lookups and drop an entry on its topic
 * (`api_key:<id>`, `session:<id>`, `user:<id>`), followed by `@<transaction id>`, which the
 * instances acknowledge so that the writing instance can wait for them. A trigger, so that no writer (the service, the
 * command line, an operator's SQL) can forget it; `pg_notify` inside the changing transaction,
 * so the notice is sent only if, and when, the change commits. Usage counters and login
 * bookkeeping change other columns and announce nothing.
 */
const TOPICS = [
  ['api_keys', 'api_key'],
  ['sessions', 'session'],
  ['users', 'user'],
] as const;

export class AuthInvalidation1795415500000 implements MigrationInterface {
  name = 'AuthInvalidation1795415500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION "auth_invalidate_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('auth_invalidate', TG_ARGV[0] || ':' || OLD.id::text || '@' || txid_current()::text);
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER "TRG_api_keys_auth_invalidate"
        AFTER UPDATE OF key_hash, revoked_at, expires_at, scopes, client_id ON "api_keys"
        FOR EACH ROW
        WHEN (OLD.key_hash IS DISTINCT FROM NEW.key_hash
              OR OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
              OR OLD.scopes IS DISTINCT FROM NEW.scopes OR OLD.client_id IS DISTINCT FROM NEW.client_id)
        EXECUTE FUNCTION "auth_invalidate_notify"('api_key')`);
    await queryRunner.query(`
      CREATE TRIGGER "TRG_sessions_auth_invalidate"
        AFTER UPDATE OF revoked_at, expires_at, step_up_at, user_id ON "sessions"
        FOR EACH ROW
        WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
              OR OLD.expires_at IS DISTINCT FROM NEW.expires_at OR OLD.step_up_at IS DISTINCT FROM NEW.step_up_at
              OR OLD.user_id IS DISTINCT FROM NEW.user_id)
        EXECUTE FUNCTION "auth_invalidate_notify"('session')`);
    await queryRunner.query(`
      CREATE TRIGGER "TRG_users_auth_invalidate"
        AFTER UPDATE OF is_active, role, username, must_change_password, password_hash ON "users"
        FOR EACH ROW
        WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active OR OLD.role IS DISTINCT FROM NEW.role
              OR OLD.username IS DISTINCT FROM NEW.username
              OR OLD.must_change_password IS DISTINCT FROM NEW.must_change_password
              OR OLD.password_hash IS DISTINCT FROM NEW.password_hash)
        EXECUTE FUNCTION "auth_invalidate_notify"('user')`);
    for (const [table, topic] of TOPICS) {
      await queryRunner.query(`
        CREATE TRIGGER "TRG_${table}_auth_invalidate_delete" AFTER DELETE ON "${table}"
          FOR EACH ROW EXECUTE FUNCTION "auth_invalidate_notify"('${topic}')`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [table] of TOPICS) {
      await queryRunner.query(`DROP TRIGGER "TRG_${table}_auth_invalidate_delete" ON "${table}"`);
    }
    await queryRunner.query(`DROP TRIGGER "TRG_users_auth_invalidate" ON "users"`);
    await queryRunner.query(`DROP TRIGGER "TRG_sessions_auth_invalidate" ON "sessions"`);
    await queryRunner.query(`DROP TRIGGER "TRG_api_keys_auth_invalidate" ON "api_keys"`);
    await queryRunner.query(`DROP FUNCTION "auth_invalidate_notify"()`);
  }
}
