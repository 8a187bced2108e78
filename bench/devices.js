// The device verification scenario: POST /api/v1/devices/verify with an API key, each
// request a fresh valid code for one of many devices, so every request is a real write
// (the replay-guarded device UPDATE plus its audit record, in one transaction).
import { createHash, createHmac } from 'node:crypto';
import pg from 'pg';

const CLIENT_ID = 'bench-devices';
/** More devices than requests in a run, so each request claims a fresh (device, step). */
const DEVICES = Number(process.env.BENCH_DEVICES || 60_000);

const sha256Hex = (data) => createHash('sha256').update(data).digest('hex');

/** RFC 6238 / RFC 4226 truncation over the raw key, SHA-1, 6 digits, 30 s. */
function totp(key, atMs) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 1000 / 30)));
  const hmac = createHmac('sha1', key).update(counter).digest();
  const offset = hmac[hmac.length - 1] & 0x0f;
  return String((hmac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** Version 1 of MASTER_SECRETS (a bare secret, or "1:secret,..."). */
function masterSecretV1(spec) {
  if (!spec.includes(':')) return Buffer.from(spec.trim(), 'utf8');
  const entry = spec.split(',').find((e) => e.trim().startsWith('1:'));
  if (!entry) throw new Error('MASTER_SECRETS has no version 1');
  return Buffer.from(entry.trim().slice(2).trim(), 'utf8');
}

/** Prepares an API key and DEVICES devices; answers the scenario overrides. */
export async function setupDeviceVerify(ctx) {
  const apiKey = `otpk_${ctx.random(32)}`;
  const master = masterSecretV1(ctx.env.MASTER_SECRETS);
  const db = new pg.Client({ connectionString: ctx.databaseUrl });
  await db.connect();
  try {
    await db.query(
      `INSERT INTO api_keys (name, client_id, prefix, key_hash, scopes)
      VALUES ('bench devices', $1, $2, $3, '{devices:write,devices:read,devices:verify}')`,
      [CLIENT_ID, apiKey.slice(0, 13), sha256Hex(apiKey)],
    );
    // One device through the API: proves the bench derives keys exactly as the service does.
    const registered = await ctx.request('app', 'POST', '/api/v1/devices/register', {
      body: { device_id: 'bench-probe', user_id: 'bench-user' },
      headers: { 'x-api-key': apiKey },
    });
    if (registered.status !== 201) throw new Error(`register: ${registered.status} ${JSON.stringify(registered.body)}`);
    const probeKey = createHmac('sha256', master).update(`${CLIENT_ID}:bench-probe`).digest();
    if (registered.body.derived_key !== probeKey.toString('base64')) throw new Error('derived key mismatch');

    // The rest in bulk (the API adds a QR code per registration, which is not what is measured).
    const ids = Array.from({ length: DEVICES }, (_, i) => `bench-${i}`);
    const keys = ids.map((id) => createHmac('sha256', master).update(`${CLIENT_ID}:${id}`).digest());
    await db.query(
      `INSERT INTO devices (client_id, device_id, user_id, key_version, derived_key_hash)
      SELECT $1, d, 'bench-user-' || (ordinality % 1000), 1, h
      FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t(d, h, ordinality)`,
      [CLIENT_ID, ids, keys.map(sha256Hex)],
    );
    await db.query('ANALYZE devices');
    ctx.log(`app-devices-verify: ${DEVICES} devices registered`);

    let next = 0;
    const outcomes = { valid: 0, invalid: 0 };
    process.once('exit', () => ctx.log(`app-devices-verify outcomes (warm-up included): ${JSON.stringify(outcomes)}`));
    return {
      headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
      autocannon: {
        requests: [
          {
            setupRequest(request) {
              const i = next++ % DEVICES;
              const otp = totp(keys[i], Date.now());
              return { ...request, body: JSON.stringify({ device_id: ids[i], otp }) };
            },
            onResponse(status, body) {
              if (status === 200 && body.includes('"valid":true')) outcomes.valid++;
              else outcomes.invalid++;
            },
          },
        ],
      },
    };
  } finally {
    await db.end();
  }
}

/** One API key (devices:read) and one device, read back on every request: API-key authentication on a light route. */
export async function setupDeviceRead(ctx) {
  const apiKey = `otpk_${ctx.random(32)}`;
  const db = new pg.Client({ connectionString: ctx.databaseUrl });
  await db.connect();
  try {
    await db.query(
      `INSERT INTO api_keys (name, client_id, prefix, key_hash, scopes)
      VALUES ('bench device read', $1, $2, $3, '{devices:write,devices:read}')`,
      [`${CLIENT_ID}-read`, apiKey.slice(0, 13), sha256Hex(apiKey)],
    );
  } finally {
    await db.end();
  }
  const registered = await ctx.request('app', 'POST', '/api/v1/devices/register', {
    body: { device_id: 'bench-read', user_id: 'bench-user' },
    headers: { 'x-api-key': apiKey },
  });
  if (registered.status !== 201) throw new Error(`register: ${registered.status} ${JSON.stringify(registered.body)}`);
  return { headers: { 'x-api-key': apiKey } };
}
