// The administrator read scenarios: GET /api/v1/metrics/system and a filtered GET /api/v1/audit/logs.
// With BENCH_SEED=1 they run over 1,000,000 OTP events and 1,000,000 audit records seeded by
// bench/seed.js (about a minute on the bench machine, once per run); without it, over the
// little the other scenarios wrote.
import { performance } from 'node:perf_hooks';
import { seedBenchDatabase } from './seed.js';

let seeding;

/** Seeds once per run (both scenarios share it) when BENCH_SEED=1. */
function seedOnce(ctx) {
  if (process.env.BENCH_SEED !== '1') {
    ctx.log('BENCH_SEED is not 1: running over an unseeded database');
    return Promise.resolve();
  }
  seeding ??= seedBenchDatabase(ctx.databaseUrl, { log: (message) => ctx.log(`seed: ${message}`) });
  return seeding;
}

/** Signs in as the bootstrap administrator (ADMIN_PASSWORD in `appEnv`). */
async function adminHeaders(ctx) {
  const login = await ctx.request('app', 'POST', '/api/v1/auth/login', {
    body: { username: ctx.env.ADMIN_USERNAME ?? 'admin', password: ctx.env.ADMIN_PASSWORD },
  });
  if (login.status !== 200) throw new Error(`admin login: ${login.status} ${JSON.stringify(login.body)}`);
  return { authorization: `Bearer ${login.body.access_token}` };
}

/** Times one request: the cold cost of what the scenario then measures under load. */
async function timed(ctx, path, headers) {
  const started = performance.now();
  const res = await ctx.request('app', 'GET', path, { headers });
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
  ctx.log(`${path}: one cold request ${(performance.now() - started).toFixed(0)} ms`);
  return res;
}

export async function setupMetricsSystem(ctx) {
  await seedOnce(ctx);
  const headers = await adminHeaders(ctx);
  await timed(ctx, '/api/v1/metrics/system', headers);
  return { headers };
}

/** Failed sign-ins of the last 7 days, newest first: the query behind a security dashboard. */
export async function setupAuditLogsFiltered(ctx) {
  await seedOnce(ctx);
  const headers = await adminHeaders(ctx);
  const from = new Date(Date.now() - 7 * 86_400_000).toISOString();
  const path = `/api/v1/audit/logs?action=auth.login&status=failure&from=${encodeURIComponent(from)}&limit=50`;
  const res = await timed(ctx, path, headers);
  ctx.log(`audit/logs: ${res.body.total} matching records`);
  return { headers, path };
}
