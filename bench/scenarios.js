// Benchmark scenarios for bench/run.js. Add entries here; the runner does not
// need to change.
//
// A scenario:
//   name        short unique id, shown in the table (filter with BENCH_SCENARIOS=a,b)
//   target      'baseline' (bench/baseline-server.js), 'app' (node dist/src/main.js) or
//               'pgVerify' (bench/baseline-pg-verify.js, started once the app has migrated)
//   method      HTTP method (default GET)
//   path        request path on the target, e.g. '/health'
//   headers     request headers
//   body        string, or an object (sent as JSON with content-type application/json)
//   reference   true for the row the req/s ratio is computed against (the baseline)
//   allowNon2xx true if non-2xx responses are expected (otherwise they fail the run)
//   autocannon  extra options passed to autocannon as-is (e.g. `requests: [...]`
//               for per-request bodies, `setupClient`), see its README
//   setup       async (ctx) => overrides | undefined — runs once before warm-up;
//               whatever it returns is merged into the scenario (headers, body, ...);
//               an `outcomes` object among them ({ valid, invalid } counted by its own
//               onResponse) is reset after the warm-up and reported with the result
//
// ctx passed to setup:
//   ctx.url(target, path)                        absolute URL
//   ctx.request(target, method, path, { body, headers })
//                                                -> { status, headers, body } (JSON-parsed when possible)
//   ctx.env                                      the environment the app was started with
//   ctx.databaseUrl                              the bench database (fresh, dropped afterwards)
//   ctx.random(bytes = 16)                       random base64url string
//   ctx.log(...args)
//
// Extra environment for the app (e.g. an admin account a login scenario uses):
// export `appEnv` below, or set BENCH_APP_<NAME>=value when running the bench.

import { setupAuditLogsFiltered, setupMetricsSystem } from './audit-metrics.js';
import { setupDeviceRead, setupDeviceVerify, setupPgVerify } from './devices.js';
import { BENCH_ADMIN_PASSWORD, setupKeysHot, setupKeysSpread } from './keys.js';
import { setupOtpCodes } from './otp-codes.js';
import { setupOtpValidate } from './otp-validate.js';

/** Merged into the app's environment (values must be strings). */
export const appEnv = {
  // The service's memory settings, as `npm start` and the Docker image run it (see the README's Speed section).
  NODE_OPTIONS: '--max-semi-space-size=4',
  MALLOC_MMAP_THRESHOLD_: '131072',
  // The load comes from one address and one account: lift the limits, keep their cost.
  RATE_LIMIT_MULTIPLIER: '1000000',
  // The first administrator (username "admin"), which the keys scenarios sign in as to issue their API key.
  ADMIN_PASSWORD: BENCH_ADMIN_PASSWORD,
};

const PASSWORD = 'Bench-Password-1!';

/** Registers a fresh user and answers its credentials. */
async function newUser(ctx) {
  const username = `bench_${ctx.random(6).replace(/[^A-Za-z0-9]/g, 'x')}`;
  const res = await ctx.request('app', 'POST', '/api/v1/auth/register', {
    body: { username, email: `${username}@example.com`, password: PASSWORD },
  });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${JSON.stringify(res.body)}`);
  return { username, password: PASSWORD };
}

/** @type {Array<Record<string, any>>} */
export default [
  { name: 'baseline-hello', target: 'baseline', method: 'GET', path: '/', reference: true },
  { name: 'app-health', target: 'app', method: 'GET', path: '/health' },
  { name: 'app-info', target: 'app', method: 'GET', path: '/' },
  {
    // argon2id (19 MiB, t=2) per request: bound by the CPU and libuv's thread pool, so few connections.
    name: 'app-login',
    target: 'app',
    method: 'POST',
    path: '/api/v1/auth/login',
    autocannon: { connections: 8 },
    async setup(ctx) {
      return { body: await newUser(ctx) };
    },
  },
  {
    // JWT check plus the session lookup that makes logout and disabling immediate.
    name: 'app-users-me',
    target: 'app',
    method: 'GET',
    path: '/api/v1/users/me',
    async setup(ctx) {
      const credentials = await newUser(ctx);
      const res = await ctx.request('app', 'POST', '/api/v1/auth/login', { body: credentials });
      if (res.status !== 200) throw new Error(`login: ${res.status} ${JSON.stringify(res.body)}`);
      return { headers: { authorization: `Bearer ${res.body.access_token}` } };
    },
  },
  {
    // API key check, device read, replay-guarded UPDATE + audit record in one transaction;
    // each request a fresh valid code for one of many devices (see bench/devices.js).
    name: 'app-devices-verify',
    target: 'app',
    method: 'POST',
    path: '/api/v1/devices/verify',
    setup: setupDeviceVerify,
  },
  {
    // The same load on bare Fastify + pg: the same HMAC work and ONE named prepared statement
    // (claim + audit record), right after the service's run; see bench/baseline-pg-verify.js.
    name: 'baseline-pg-verify',
    target: 'pgVerify',
    method: 'POST',
    path: '/api/v1/devices/verify',
    setup: setupPgVerify,
  },
  {
    // API key check (hashed-key lookup) plus one device read: authentication's share of a light request.
    name: 'app-devices-read',
    target: 'app',
    method: 'GET',
    path: '/api/v1/devices/bench-read',
    setup: setupDeviceRead,
  },
  {
    // JWT + session check, configuration read, HMAC, and one write (counter + event).
    name: 'app-otp-validate',
    target: 'app',
    method: 'POST',
    path: '/api/v1/otp/validate',
    setup: setupOtpValidate,
  },
  {
    // JWT + session check, 100 TOTP configurations read and decrypted, 100 codes, the
    // generate events recorded: an authenticator screen of a person with 100 accounts.
    name: 'app-otp-codes-100',
    target: 'app',
    method: 'GET',
    path: '/api/v1/otp/codes',
    setup: setupOtpCodes,
  },
  {
    // API key check, then one transaction: the atomic use (UPDATE ... RETURNING + usage event
    // in one statement) and its audit record; then a TOTP. Every request on one hot row.
    name: 'app-keys-code-hot',
    target: 'app',
    method: 'POST',
    path: '/api/v1/keys/code',
    setup: setupKeysHot,
  },
  {
    // The same over 1,000 keys, each request a random one (see bench/keys.js).
    name: 'app-keys-code-spread',
    target: 'app',
    method: 'POST',
    path: '/api/v1/keys/code',
    setup: setupKeysSpread,
  },
  {
    // Admin dashboard figures: eight aggregate queries (reused for METRICS_SYSTEM_CACHE_MS,
    // refreshed in the background). BENCH_SEED=1: over 1,000,000 OTP events (bench/seed.js).
    name: 'app-metrics-system',
    target: 'app',
    method: 'GET',
    path: '/api/v1/metrics/system',
    autocannon: { connections: 10 },
    setup: setupMetricsSystem,
  },
  {
    // Audit query with three filters, a page of 50 and the total. BENCH_SEED=1: over
    // 1,000,000 audit records.
    name: 'app-audit-logs-filtered',
    target: 'app',
    method: 'GET',
    path: '/api/v1/audit/logs',
    autocannon: { connections: 10 },
    setup: setupAuditLogsFiltered,
  },
];
