// Seeds a bench database with 1,000,000 OTP events and 1,000,000 audit records (generate_series,
// spread over the last 30 days), plus the 1,000 users and 2,000 OTP configurations the events
// belong to, then VACUUM ANALYZE so the planner and index-only scans see the real sizes.
//
//   node bench/seed.js postgres://.../otp_bench_x [otpEvents] [auditRows]
//
// The schema must exist (the app runs its migrations on start). Seeded audit rows carry
// placeholder chain values (written under the sealer's lock, after the current head), so the
// sealer does not spend the run sealing a million rows; audit/verify is not meaningful on a
// seeded database. Used by the app-metrics-system and app-audit-logs-filtered scenarios.
import pg from 'pg';

/** Arbitrary constant of the audit sealer's advisory lock (src/audit/audit-chain.service.ts). */
const SEAL_LOCK_ID = 0x0a0d17;
const USERS = 1000;
const CONFIGS_PER_USER = 2;
const WINDOW_SECONDS = 30 * 86_400;

export async function seedBenchDatabase(
  databaseUrl,
  { otpEvents = 1_000_000, auditRows = 1_000_000, log = () => {} } = {},
) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const started = Date.now();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO users (username, email, password_hash, last_login_at, mfa_enabled, locked_until)
       SELECT 'seed_' || i, 'seed_' || i || '@example.com', 'seeded-account-without-password',
              now() - make_interval(hours => i % 72), i % 5 = 0,
              CASE WHEN i % 100 = 0 THEN now() + interval '10 minutes' END
         FROM generate_series(1, $1) AS i`,
      [USERS],
    );
    await client.query(
      `INSERT INTO otp_configs (owner_id, name, otp_type, period, counter, secret, is_active)
       SELECT u.id, 'seed ' || k, CASE WHEN k = 1 THEN 'totp' ELSE 'hotp' END,
              CASE WHEN k = 1 THEN 30 END, CASE WHEN k = 2 THEN 0 END, 'seeded-not-a-ciphertext', k = 1 OR random() < 0.5
         FROM users u CROSS JOIN generate_series(1, $1) AS k
        WHERE u.username LIKE 'seed\\_%'`,
      [CONFIGS_PER_USER],
    );
    await client.query(
      `WITH c AS (SELECT row_number() OVER (ORDER BY id) AS n, id, owner_id FROM otp_configs)
       INSERT INTO otp_events (user_id, config_id, event_type, drift, created_at)
       SELECT c.owner_id, c.id,
              (ARRAY['generate', 'generate', 'validate_success', 'validate_failure'])[1 + i % 4],
              CASE WHEN i % 4 = 2 THEN 0 END,
              now() - make_interval(secs => i::double precision * $2 / $1)
         FROM generate_series(1, $1) AS i
         JOIN c ON c.n = 1 + i % (SELECT count(*) FROM c)`,
      [otpEvents, WINDOW_SECONDS],
    );
    log(`seeded ${USERS} users, ${USERS * CONFIGS_PER_USER} configurations, ${otpEvents} OTP events`);
    await client.query('SELECT pg_advisory_xact_lock($1)', [SEAL_LOCK_ID]);
    await client.query(
      `INSERT INTO audit_logs (created_at, actor_type, actor_id, action, resource, resource_id, status, ip,
                               user_agent, details, seq, prev_hash, hash)
       SELECT now() - make_interval(secs => i::double precision * $2 / $1),
              (ARRAY['user', 'api_key', 'system', 'anonymous'])[1 + i % 4],
              'actor-' || (i % 1000),
              (ARRAY['auth.login', 'otp.validate', 'otp.generate', 'device.verify', 'key.use', 'user.update',
                     'api_key.create', 'authz.denied'])[1 + i % 8],
              (ARRAY['user', 'otp_config', 'device', 'usage_key', 'api_key'])[1 + i % 5],
              'res-' || (i % 5000),
              CASE WHEN i % 10 = 0 THEN 'failure' ELSE 'success' END,
              '10.' || (i % 250) || '.' || (i % 7) || '.1',
              'bench-seed/1.0',
              jsonb_build_object('seed', i),
              head.seq + i, repeat('0', 64), repeat('0', 64)
         FROM generate_series(1, $1) AS i,
              (SELECT coalesce(max(seq), 0) AS seq FROM audit_logs) AS head`,
      [auditRows, WINDOW_SECONDS],
    );
    await client.query('COMMIT');
    log(`seeded ${auditRows} audit records`);
    await client.query('VACUUM ANALYZE users, otp_configs, otp_events, audit_logs');
    log(`seed done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [url, events, audit] = process.argv.slice(2);
  if (!url) {
    console.error('usage: node bench/seed.js DATABASE_URL [otpEvents] [auditRows]');
    process.exit(2);
  }
  await seedBenchDatabase(url, {
    otpEvents: events ? Number(events) : undefined,
    auditRows: audit ? Number(audit) : undefined,
    log: (message) => console.log(`[seed] ${message}`),
  });
}
