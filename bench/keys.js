// The usage-limited key scenarios: POST /api/v1/keys/code with an API key holding keys:use.
// Every request consumes a use: the atomic UPDATE ... RETURNING with its usage event, plus the
// audit record, in one transaction, then a TOTP. Keys are unlimited so the run never runs dry.
import { randomBytes } from 'node:crypto';

/** The bootstrap administrator (ADMIN_PASSWORD in `appEnv`, username "admin"). */
export const BENCH_ADMIN_PASSWORD = 'Bench-Admin-Password-1!';
const SPREAD_KEYS = 1000;

const base32 = (bytes) => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return bits > 0 ? out + alphabet[(value << (5 - bits)) & 31] : out;
};

/** Signs in as the bootstrap admin and issues an API key for the load (keys:admin to import its client's keys). */
async function keysApiKey(ctx) {
  const login = await ctx.request('app', 'POST', '/api/v1/auth/login', {
    body: { username: ctx.env.ADMIN_USERNAME ?? 'admin', password: ctx.env.ADMIN_PASSWORD },
  });
  if (login.status !== 200) throw new Error(`admin login: ${login.status} ${JSON.stringify(login.body)}`);
  const admin = { authorization: `Bearer ${login.body.access_token}` };
  const issued = await ctx.request('app', 'POST', '/api/v1/api-keys', {
    body: { name: `bench keys ${ctx.random(4)}`, client_id: 'bench-keys', scopes: ['keys:use', 'keys:admin'] },
    headers: admin,
  });
  if (issued.status !== 201) throw new Error(`api key: ${issued.status} ${JSON.stringify(issued.body)}`);
  return { apiKey: issued.body.key };
}

/** Imports unlimited keys through the API (the reference file format) into the API key's client. */
async function importKeys(ctx, apiKey, names) {
  const keys = Object.fromEntries(
    names.map((name) => [name, { secret: base32(randomBytes(20)), max_uses: -1, usage_count: 0 }]),
  );
  const res = await ctx.request('app', 'POST', '/api/v1/keys/import', {
    body: { keys },
    headers: { 'x-api-key': apiKey },
  });
  if (res.status !== 200 || res.body.created !== names.length) {
    throw new Error(`import: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  }
}

/** One unlimited key every request uses: all writers contend for one row. */
export async function setupKeysHot(ctx) {
  const { apiKey } = await keysApiKey(ctx);
  const name = `bench-hot-${ctx.random(4).replace(/[^A-Za-z0-9]/g, 'x')}`;
  await importKeys(ctx, apiKey, [name]);
  return {
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify({ key: name }),
  };
}

/** 1,000 unlimited keys, each request a random one: writers rarely meet on a row. */
export async function setupKeysSpread(ctx) {
  const { apiKey } = await keysApiKey(ctx);
  const prefix = `bench-spread-${ctx.random(4).replace(/[^A-Za-z0-9]/g, 'x')}`;
  const names = Array.from({ length: SPREAD_KEYS }, (_, i) => `${prefix}-${i}`);
  await importKeys(ctx, apiKey, names);
  const bodies = names.map((key) => JSON.stringify({ key }));
  return {
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    autocannon: {
      requests: [
        {
          setupRequest: (request) => ({ ...request, body: bodies[Math.floor(Math.random() * bodies.length)] }),
        },
      ],
    },
  };
}
