// Second baseline for bench/run.js: the device verify with nothing around it. Bare Fastify and
// `pg`, the same HMAC work as the service (derived key, its SHA-256, the TOTP window) and ONE
// named prepared statement per request that claims the step (replay guard, active, not
// locked, API key not revoked) and appends the audit record. It is what the service's verify
// costs at the least on this machine, so the runner prints the service's verify against it.
//
//   DATABASE_URL=postgres://…/otp_bench_x MASTER_SECRETS=… PORT=3002 node bench/baseline-pg-verify.js
//
// Only the success path is the service's: a code that matches no step, or a claim the
// statement refuses, answers {"valid": false} without counting a failure (the bench sends
// valid codes). Devices are keyed under master secret version 1, generation 0, as the
// bench registers them; the stored key hash in the WHERE clause checks both.
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify from 'fastify';
import pg from 'pg';

const port = Number(process.env.PORT ?? 3002);
const host = process.env.HOST ?? '127.0.0.1';
// The service's default DATABASE_POOL_SIZE.
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE ?? 10) });
const master = masterSecretV1(process.env.MASTER_SECRETS ?? '');

const STEP_SECONDS = 30;
const WINDOW = 1;
const CODE = /^\d{6}$/;

/** Version 1 of MASTER_SECRETS (a bare secret, or "1:secret,..."), as the service reads it. */
function masterSecretV1(spec) {
  if (!spec.trim()) throw new Error('MASTER_SECRETS is required');
  if (!spec.includes(':')) return Buffer.from(spec.trim(), 'utf8');
  const entry = spec.split(',').find((e) => e.trim().startsWith('1:'));
  if (!entry) throw new Error('MASTER_SECRETS has no version 1');
  return Buffer.from(entry.trim().slice(2).trim(), 'utf8');
}

/**
 * The claim and its audit record. The API key's row is read inside the statement, so a
 * revoked or expired key stops at once although its client is remembered in process.
 * $1 key id, $2 client, $3 device, $4 step, $5 now, $6 derived key hash, $7 ip, $8 user agent,
 * $9 request id, $10 drift.
 */
const VERIFY = {
  name: 'bench_device_verify',
  text: `WITH change AS (
      UPDATE devices
         SET last_used_step = $4, usage_count = usage_count + 1, last_used_at = $5,
             verified_at = COALESCE(verified_at, $5), failed_attempts = 0, locked_until = NULL
       WHERE client_id = $2 AND device_id = $3 AND derived_key_hash = $6 AND is_active
         AND (locked_until IS NULL OR locked_until <= $5)
         AND (last_used_step IS NULL OR last_used_step < $4)
         AND EXISTS (SELECT 1 FROM api_keys k
                      WHERE k.id = $1::uuid AND k.revoked_at IS NULL
                        AND (k.expires_at IS NULL OR k.expires_at > $5) AND 'devices:verify' = ANY (k.scopes))
      RETURNING id, user_id)
    INSERT INTO audit_logs (actor_type, actor_id, action, resource, resource_id, status, ip, user_agent, request_id, details)
    SELECT 'api_key', $1::text, 'device.verify', 'device', change.id::text, 'success', $7, $8, $9,
           jsonb_build_object('client_id', $2::text, 'device_id', $3::text, 'user_id', change.user_id, 'drift', $10::int)
      FROM change
    RETURNING id`,
};

/** API key hash -> { id, clientId }: both never change for a key; revocation is checked in VERIFY. */
const keys = new Map();

async function apiKey(raw) {
  const hash = createHash('sha256').update(raw).digest('hex');
  const known = keys.get(hash);
  if (known) return known;
  const { rows } = await pool.query({
    name: 'bench_api_key',
    text: 'SELECT id, client_id FROM api_keys WHERE key_hash = $1',
    values: [hash],
  });
  if (rows.length === 0) return null;
  const found = { id: rows[0].id, clientId: rows[0].client_id };
  keys.set(hash, found);
  return found;
}

function code(key, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const hmac = createHmac('sha1', key).update(counter).digest();
  const offset = hmac[hmac.length - 1] & 0x0f;
  return String((hmac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** The matching step closest to now, every step of the window checked (as the service does); null: none. */
function matchingStep(key, otp, nowMs) {
  const current = Math.floor(Math.floor(nowMs / 1000) / STEP_SECONDS);
  const presented = Buffer.from(otp);
  let best = null;
  for (let step = current - WINDOW; step <= current + WINDOW; step++) {
    if (!timingSafeEqual(Buffer.from(code(key, step)), presented)) continue;
    if (best === null || Math.abs(step - current) < Math.abs(best - current)) best = step;
  }
  return best === null ? null : { step: best, drift: best - current };
}

const app = Fastify({ logger: false });
app.get('/', async () => ({ ok: true }));
app.post('/api/v1/devices/verify', async (req, reply) => {
  const raw = req.headers['x-api-key'];
  const principal = typeof raw === 'string' ? await apiKey(raw) : null;
  if (!principal) return reply.code(401).send({ code: 'API_KEY_INVALID' });
  const body = req.body;
  const deviceId = body?.device_id;
  const otp = body?.otp;
  if (typeof deviceId !== 'string' || deviceId.length === 0 || deviceId.length > 128) {
    return reply.code(400).send({ code: 'VALIDATION_FAILED' });
  }
  if (typeof otp !== 'string' || !CODE.test(otp)) return reply.code(400).send({ code: 'VALIDATION_FAILED' });

  const now = new Date();
  const key = createHmac('sha256', master).update(`${principal.clientId}:${deviceId}`).digest();
  const match = matchingStep(key, otp, now.getTime());
  if (!match) return { valid: false, device_id: deviceId };
  const userAgent = req.headers['user-agent'] ?? null;
  const { rowCount } = await pool.query({
    ...VERIFY,
    values: [
      principal.id,
      principal.clientId,
      deviceId,
      match.step,
      now,
      createHash('sha256').update(key).digest('hex'),
      req.ip,
      userAgent && userAgent.slice(0, 512),
      randomUUID(),
      match.drift,
    ],
  });
  return rowCount === 1
    ? { valid: true, device_id: deviceId, drift: match.drift }
    : { valid: false, device_id: deviceId };
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    app
      .close()
      .then(() => pool.end())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  });
}

try {
  await app.listen({ port, host });
} catch (err) {
  console.error(err);
  process.exit(1);
}
