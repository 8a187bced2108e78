// Side-by-side adapter of this service (format: bench/README.md, "Side by side"). bench/run.js
// uses it for this service's side; as --peer it measures another instance of this service:
//
//   node bench/run.js --peer bench/peers/self.js --peer-url http://127.0.0.1:3100 \
//     --peer-option adminPassword=<that instance's ADMIN_PASSWORD>
//
// The instance needs RATE_LIMIT_MULTIPLIER=1000000 (the load comes from one address and one
// account) and a bootstrap administrator (options adminUsername, default "admin", and
// adminPassword) for the workloads that issue an API key. Everything is set up over HTTP.
// Sizes: BENCH_SIDE_DEVICES (4,000 devices) and BENCH_SIDE_TOTP_CONFIGS (3,000 configurations):
// every device and configuration accepts each step of its window once, so a run needs
// about (requests in warm-up + run) / 3 of them; fewer show as a "valid" share below 100 %.
import { freshTotpPicker, newSecret } from '../totp.js';

const DEVICES = Number(process.env.BENCH_SIDE_DEVICES || 4000);
const TOTP_CONFIGS = Number(process.env.BENCH_SIDE_TOTP_CONFIGS || 3000);
const LIVE_CODES_ACCOUNTS = 100;
const IMPORT_BATCH = 100; // the import route's limit
const PASSWORD = 'Bench-Password-1!';

const expect = (res, status, what) => {
  if (res.status !== status) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  return res.body;
};

const safeName = (ctx, prefix) => `${prefix}_${ctx.random(6).replace(/[^A-Za-z0-9]/g, 'x')}`;

/** Runs fn(i) for i in [0, n), `limit` at a time. */
async function inParallel(n, limit, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/** A new person, signed in: their bearer header. */
async function signUp(ctx) {
  const username = safeName(ctx, 'side');
  expect(
    await ctx.request('POST', '/api/v1/auth/register', {
      body: { username, email: `${username}@example.com`, password: PASSWORD },
    }),
    201,
    'register',
  );
  const login = expect(
    await ctx.request('POST', '/api/v1/auth/login', { body: { username, password: PASSWORD } }),
    200,
    'login',
  );
  return { authorization: `Bearer ${login.access_token}` };
}

/** An API key of a new client, issued by the bootstrap administrator. */
async function issueApiKey(ctx, scopes) {
  const { adminUsername = 'admin', adminPassword } = ctx.options;
  if (!adminPassword) throw new Error('the self adapter needs the adminPassword option (the instance ADMIN_PASSWORD)');
  const login = expect(
    await ctx.request('POST', '/api/v1/auth/login', { body: { username: adminUsername, password: adminPassword } }),
    200,
    'admin login',
  );
  const issued = expect(
    await ctx.request('POST', '/api/v1/api-keys', {
      body: { name: safeName(ctx, 'side key'), client_id: safeName(ctx, 'side-client'), scopes },
      headers: { authorization: `Bearer ${login.access_token}` },
    }),
    201,
    'api key',
  );
  return issued.key;
}

/** Imports TOTP accounts in batches; answers their ids and raw keys, in order. */
async function importTotp(ctx, headers, count) {
  const secrets = Array.from({ length: count }, newSecret);
  const ids = new Array(count);
  await inParallel(Math.ceil(count / IMPORT_BATCH), 4, async (batch) => {
    const from = batch * IMPORT_BATCH;
    const accounts = secrets
      .slice(from, from + IMPORT_BATCH)
      .map((s, i) => ({ name: `side-${String(from + i).padStart(5, '0')}`, secret: s.base32 }));
    const result = expect(
      await ctx.request('POST', '/api/v1/otp/configs/import', { body: { accounts }, headers }),
      200,
      'import',
    );
    for (const item of result.results) {
      if (item.status !== 'imported') throw new Error(`import: item ${item.index} ${item.status} ${item.message}`);
      ids[from + item.index] = item.config_id;
    }
  });
  return { ids, keys: secrets.map((s) => s.key) };
}

export default {
  name: 'this service',
  workloads: {
    deviceVerify: {
      async setup(ctx) {
        const apiKey = await issueApiKey(ctx, ['devices:write', 'devices:verify']);
        const keys = new Array(DEVICES);
        await inParallel(DEVICES, 8, async (i) => {
          const device = expect(
            await ctx.request('POST', '/api/v1/devices/register', {
              body: { device_id: `side-${i}`, user_id: `side-user-${i % 1000}` },
              headers: { 'x-api-key': apiKey },
            }),
            201,
            'device register',
          );
          keys[i] = Buffer.from(device.derived_key, 'base64');
        });
        ctx.log(`${DEVICES} devices registered`);
        return { apiKey, picker: freshTotpPicker(keys) };
      },
      request({ apiKey, picker }) {
        const { index, code } = picker.next();
        return {
          method: 'POST',
          path: '/api/v1/devices/verify',
          headers: { 'x-api-key': apiKey },
          body: { device_id: `side-${index}`, otp: code },
        };
      },
      check: (status, body) => status === 200 && body.includes('"valid":true'),
    },

    keyCode: {
      async setup(ctx) {
        const apiKey = await issueApiKey(ctx, ['keys:use', 'keys:admin']);
        const name = safeName(ctx, 'side-hot');
        const imported = expect(
          await ctx.request('POST', '/api/v1/keys/import', {
            body: { keys: { [name]: { secret: newSecret().base32, max_uses: -1, usage_count: 0 } } },
            headers: { 'x-api-key': apiKey },
          }),
          200,
          'key import',
        );
        if (imported.created !== 1) throw new Error(`key import: ${JSON.stringify(imported).slice(0, 300)}`);
        return { headers: { 'x-api-key': apiKey }, body: JSON.stringify({ key: name }) };
      },
      request: ({ headers, body }) => ({
        method: 'POST',
        path: '/api/v1/keys/code',
        headers: { ...headers, 'content-type': 'application/json' },
        body,
      }),
      check: (status, body) => status === 200 && body.includes('"code"'),
    },

    liveCodes: {
      async setup(ctx) {
        const headers = await signUp(ctx);
        await importTotp(ctx, headers, LIVE_CODES_ACCOUNTS);
        return { headers };
      },
      request: ({ headers }) => ({ method: 'GET', path: '/api/v1/otp/codes', headers }),
      check: (status) => status === 200,
    },

    totpVerify: {
      async setup(ctx) {
        const headers = await signUp(ctx);
        const { ids, keys } = await importTotp(ctx, headers, TOTP_CONFIGS);
        ctx.log(`${TOTP_CONFIGS} TOTP configurations imported`);
        return { headers, ids, picker: freshTotpPicker(keys) };
      },
      request({ headers, ids, picker }) {
        const { index, code } = picker.next();
        return {
          method: 'POST',
          path: '/api/v1/otp/validate',
          headers,
          body: { config_id: ids[index], otp_code: code },
        };
      },
      check: (status, body) => status === 200 && body.includes('"is_valid":true'),
    },
  },
};
