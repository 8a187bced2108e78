// The device verification scenarios: POST /api/v1/devices/verify with an API key, each
// request a fresh valid code for one of many devices, so every request is a real write
// (the replay-guarded device UPDATE plus its audit record). The same workload runs against
// the service and against bench/baseline-pg-verify.js (its own client and devices).
import { createHash, createHmac } from 'node:crypto';
import pg from 'pg';
import { freshTotpPicker } from './totp.js';

/** More devices than requests in a run, so each request claims a fresh (device, step). */
const DEVICES = Number(process.env.BENCH_DEVICES || 60_000);

const sha256Hex = (data) => createHash('sha256').update(data).digest('hex');

/** Version 1 of MASTER_SECRETS (a bare secret, or "1:secret,..."). */
function masterSecretV1(spec) {
  if (!spec.includes(':')) return Buffer.from(spec.trim(), 'utf8');
  const entry = spec.split(',').find((e) => e.trim().startsWith('1:'));
  if (!entry) throw new Error('MASTER_SECRETS has no version 1');
  return Buffer.from(entry.trim().slice(2).trim(), 'utf8');
}

/** The service's verify: its own client and devices. */
export const setupDeviceVerify = (ctx) => deviceVerify(ctx, 'bench-devices', 'app-devices-verify');

/** The bare Fastify + pg verify (bench/baseline-pg-verify.js): a client and devices of its own, same count. */
export const setupPgVerify = (ctx) => deviceVerify(ctx, 'bench-devices-pg', 'baseline-pg-verify');

/** Prepares an API key and DEVICES devices of `clientId`; answers the scenario overrides. */
async function deviceVerify(ctx, clientId, label) {
  const apiKey = `otpk_${ctx.random(32)}`;
  const master = masterSecretV1(ctx.env.MASTER_SECRETS);
  const db = new pg.Client({ connectionString: ctx.databaseUrl });
  await db.connect();
  try {
    await db.query(
      `INSERT INTO api_keys (name, client_id, prefix, key_hash, scopes)
      VALUES ('bench devices', $1, $2, $3, '{devices:write,devices:read,devices:verify}')`,
      [clientId, apiKey.slice(0, 13), sha256Hex(apiKey)],
    );
    // One device through the API: proves the bench derives keys exactly as the service does.
    const registered = await ctx.request('app', 'POST', '/api/v1/devices/register', {
      body: { device_id: 'bench-probe', user_id: 'bench-user' },
      headers: { 'x-api-key': apiKey },
    });
    if (registered.status !== 201) throw new Error(`register: ${registered.status} ${JSON.stringify(registered.body)}`);
    const probeKey = createHmac('sha256', master).update(`${clientId}:bench-probe`).digest();
    if (registered.body.derived_key !== probeKey.toString('base64')) throw new Error('derived key mismatch');

    // The rest in bulk (the API adds a QR code per registration, which is not what is measured).
    const ids = Array.from({ length: DEVICES }, (_, i) => `bench-${i}`);
    const keys = ids.map((id) => createHmac('sha256', master).update(`${clientId}:${id}`).digest());
    await db.query(
      `INSERT INTO devices (client_id, device_id, user_id, key_version, derived_key_hash)
      SELECT $1, d, 'bench-user-' || (ordinality % 1000), 1, h
      FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t(d, h, ordinality)`,
      [clientId, ids, keys.map(sha256Hex)],
    );
    await db.query('ANALYZE devices');
    ctx.log(`${label}: ${DEVICES} devices registered`);

    // Each device's steps of the window once each (the service accepts one step -1, 0 and +1).
    const picker = freshTotpPicker(keys);
    const outcomes = { valid: 0, invalid: 0 };
    return {
      headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
      outcomes,
      autocannon: {
        requests: [
          {
            setupRequest(request) {
              const { index, code } = picker.next();
              return { ...request, body: JSON.stringify({ device_id: ids[index], otp: code }) };
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
      ['bench-devices-read', apiKey.slice(0, 13), sha256Hex(apiKey)],
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
