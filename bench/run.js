// Benchmark runner: measures the built app against a bare Fastify baseline
// (and optionally pgbench) in the same run. See bench/README.md.
//
//   npm run bench                       # build, then node bench/run.js
//   node bench/run.js --baseline-only   # no app: baseline (+ pgbench) only
//
// Environment:
//   BENCH_DATABASE_URL   admin connection (default postgres://postgres@127.0.0.1:5432/postgres);
//                        a fresh database otp_bench_<pid> is created from it and dropped afterwards
//   BENCH_DURATION       seconds per scenario (10)
//   BENCH_CONNECTIONS    concurrent connections (50)
//   BENCH_WARMUP         warm-up seconds per scenario (2)
//   BENCH_PGBENCH        1/0: pgbench -N baseline row (default: on when pgbench is installed)
//   BENCH_SCENARIOS      comma list of scenario names to run (the reference baseline always runs)
//   BENCH_STARTUP_TIMEOUT seconds to wait for /health (60)
//   BENCH_ENTRY          app entry point (default dist/src/main.js)
//   BENCH_APP_<NAME>     passed to the app as <NAME> (e.g. BENCH_APP_REDIS_URL)
/* global AbortSignal */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import scenarioList, { appEnv as scenarioAppEnv } from './scenarios.js';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(benchDir, '..');
const resultsDir = path.join(benchDir, 'results');
const appEntry = path.resolve(root, process.env.BENCH_ENTRY || 'dist/src/main.js');
const baselineEntry = path.join(benchDir, 'baseline-server.js');

const argv = new Set(process.argv.slice(2));
if (argv.has('--help') || argv.has('-h')) {
  console.log('usage: node bench/run.js [--baseline-only]  (settings via BENCH_* env, see the header of bench/run.js)');
  process.exit(0);
}
const baselineOnly = argv.has('--baseline-only');

const config = {
  adminUrl: process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  duration: positiveInt('BENCH_DURATION', 10),
  connections: positiveInt('BENCH_CONNECTIONS', 50),
  warmup: nonNegativeInt('BENCH_WARMUP', 2),
  startupTimeout: positiveInt('BENCH_STARTUP_TIMEOUT', 60),
  scenarioFilter: (process.env.BENCH_SCENARIOS || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
};

function positiveInt(name, fallback) {
  const n = process.env[name] === undefined || process.env[name] === '' ? fallback : Number(process.env[name]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}
function nonNegativeInt(name, fallback) {
  const n = process.env[name] === undefined || process.env[name] === '' ? fallback : Number(process.env[name]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n;
}

const log = (...args) => console.error('[bench]', ...args);
const random = (bytes = 32) => randomBytes(bytes).toString('base64url');

// ---------------------------------------------------------------------------
// child processes
// ---------------------------------------------------------------------------
const children = new Set();

/** Keeps the last `limit` characters of a stream. */
function tail(limit = 64 * 1024) {
  let text = '';
  return {
    push(chunk) {
      text += chunk;
      if (text.length > limit) text = text.slice(-limit);
    },
    toString: () => text,
  };
}

function startNode(name, script, env) {
  const child = spawn(process.execPath, [script], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = tail();
  const stderr = tail();
  child.stdout.setEncoding('utf8').on('data', (d) => stdout.push(d));
  child.stderr.setEncoding('utf8').on('data', (d) => stderr.push(d));
  const proc = {
    name,
    child,
    stdout,
    stderr,
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    output() {
      return `--- ${name} stderr ---\n${stderr || '(empty)'}\n--- ${name} stdout ---\n${stdout || '(empty)'}`;
    },
  };
  child.once('error', (err) => stderr.push(`spawn error: ${err.message}\n`));
  children.add(proc);
  return proc;
}

async function stopChild(proc) {
  if (proc.running) {
    proc.child.kill('SIGTERM');
    const done = await Promise.race([proc.exited.then(() => true), sleep(5000).then(() => false)]);
    if (!done && proc.running) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
  }
  children.delete(proc);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHttp(proc, url, timeoutSec) {
  const deadline = Date.now() + timeoutSec * 1000;
  let last = 'no response';
  while (Date.now() < deadline) {
    if (!proc.running) {
      const { code, signal } = await proc.exited;
      throw new Error(`${proc.name} exited (code ${code}, signal ${signal}) before ${url} was ready\n${proc.output()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err.cause?.code ?? err.message;
    }
    await sleep(250);
  }
  throw new Error(`${proc.name}: ${url} not ready after ${timeoutSec}s (last: ${last})\n${proc.output()}`);
}

// ---------------------------------------------------------------------------
// database
// ---------------------------------------------------------------------------
const dbName = `otp_bench_${process.pid}`;
let dbCreated = false;

function benchDatabaseUrl() {
  const url = new URL(config.adminUrl);
  url.pathname = `/${dbName}`;
  return url.toString();
}

async function withAdmin(fn) {
  const client = new pg.Client({ connectionString: config.adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function createDatabase() {
  await withAdmin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${dbName}"`);
  });
  dbCreated = true;
  log(`created database ${dbName}`);
}

async function dropDatabase() {
  if (!dbCreated) return;
  dbCreated = false;
  await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`));
  log(`dropped database ${dbName}`);
}

// ---------------------------------------------------------------------------
// pgbench (optional second baseline: raw database throughput on this machine)
// ---------------------------------------------------------------------------
function findPgbench() {
  const which = spawnSync('which', ['pgbench'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(path.join(base, v, 'bin/pgbench')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(base, versions[0], 'bin/pgbench') : null;
}

function pgbenchSetting() {
  const flag = process.env.BENCH_PGBENCH;
  const bin = flag === '0' || flag === 'false' ? null : findPgbench();
  if (flag === '1' || flag === 'true') {
    if (!bin) throw new Error('BENCH_PGBENCH=1 but pgbench was not found (PATH or /usr/lib/postgresql/*/bin)');
    return { bin, required: true };
  }
  return bin ? { bin, required: false } : null;
}

function exec(bin, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${path.basename(bin)} ${args[0]} exited ${code}\n${out}`)),
    );
  });
}

/** Runs pgbench -i then pgbench -N against `dbUrl`; returns { tps, latencyAvg }. */
async function runPgbench(bin, dbUrl, duration, { clients = 10, threads = 2 } = {}) {
  await exec(bin, ['-i', '-s', '1', '-q', dbUrl]);
  const out = await exec(bin, ['-N', '-c', String(clients), '-j', String(threads), '-T', String(duration), dbUrl]);
  const tpsLines = [...out.matchAll(/^tps = ([\d.]+)(.*)$/gm)];
  const tpsLine = tpsLines.find((m) => /without|excluding/.test(m[2])) ?? tpsLines[0];
  if (!tpsLine) throw new Error(`could not parse pgbench output:\n${out}`);
  const latency = /latency average = ([\d.]+) ms/.exec(out);
  return { tps: Number(tpsLine[1]), latencyAvg: latency ? Number(latency[1]) : null, clients, threads };
}

// ---------------------------------------------------------------------------
// HTTP scenarios
// ---------------------------------------------------------------------------
function requestOptions(scenario, baseUrl) {
  const headers = { ...(scenario.headers ?? {}) };
  let body = scenario.body;
  if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
    body = JSON.stringify(body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
  }
  return {
    url: new URL(scenario.path ?? '/', baseUrl).toString(),
    method: scenario.method ?? 'GET',
    headers,
    body,
    ...(scenario.autocannon ?? {}),
  };
}

function cannon(opts) {
  return autocannon({ connections: config.connections, ...opts });
}

async function runScenario(scenario, ctx) {
  const target = ctx.targets[scenario.target];
  if (!target) throw new Error(`scenario ${scenario.name}: unknown or unavailable target "${scenario.target}"`);
  const effective = scenario.setup ? { ...scenario, ...((await scenario.setup(ctx)) ?? {}) } : scenario;
  const opts = requestOptions(effective, target.url);
  if (config.warmup > 0) await cannon({ ...opts, duration: config.warmup });
  const r = await cannon({ ...opts, duration: config.duration });
  if (!target.proc.running) {
    throw new Error(`${target.proc.name} died during ${scenario.name}\n${target.proc.output()}`);
  }
  const failures = r.errors + r.timeouts + (effective.allowNon2xx ? 0 : r.non2xx);
  return {
    name: scenario.name,
    kind: 'http',
    target: scenario.target,
    method: opts.method,
    path: scenario.path ?? '/',
    reference: Boolean(scenario.reference),
    requestsPerSec: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    latencyAvg: r.latency.average,
    totalRequests: r.requests.total,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count])),
    ok: failures === 0,
  };
}

function makeContext(targets, env, databaseUrl) {
  const url = (target, p) => {
    if (!targets[target]) throw new Error(`unknown target "${target}"`);
    return new URL(p, targets[target].url).toString();
  };
  return {
    targets,
    env,
    databaseUrl,
    url,
    random: (bytes = 16) => random(bytes),
    log,
    async request(target, method, p, { body, headers = {} } = {}) {
      const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(10_000) };
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        if (typeof body !== 'string') init.headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(url(target, p), init);
      const text = await res.text();
      let parsed = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, headers: Object.fromEntries(res.headers), body: parsed };
    },
  };
}

// ---------------------------------------------------------------------------
// output
// ---------------------------------------------------------------------------
function printTable(results) {
  const fmt = (n, digits) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '-');
  const rows = [
    ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'vs baseline', 'errors/non2xx'],
    ...results.map((r) => [
      r.name + (r.ok ? '' : '  (FAILED)'),
      fmt(r.requestsPerSec, 0),
      fmt(r.p50, 2),
      fmt(r.p99, 2),
      typeof r.ratio === 'number' ? `${r.ratio.toFixed(3)}x` : '-',
      r.kind === 'http' ? `${r.errors + r.timeouts}/${r.non2xx}` : r.error ? 'error' : '-',
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  const line = (row) =>
    row.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  console.log(`\n${line(rows[0])}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of rows.slice(1)) console.log(line(row));
  console.log(
    `\n${config.duration}s per scenario, ${config.connections} connections, node ${process.version}, ${os.cpus().length} CPUs`,
  );
}

function gitCommit() {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function writeResults(results, date) {
  mkdirSync(resultsDir, { recursive: true });
  const report = {
    date: date.toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    commit: gitCommit(),
    duration: config.duration,
    connections: config.connections,
    warmup: config.warmup,
    baselineOnly,
    results,
  };
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const file = path.join(resultsDir, `${date.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, json);
  writeFileSync(path.join(resultsDir, 'latest.json'), json);
  log(`results written to ${path.relative(root, file)} and bench/results/latest.json`);
}

// ---------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------
let cleaningUp = null;
function cleanup() {
  cleaningUp ??= (async () => {
    await Promise.allSettled([...children].map(stopChild));
    try {
      await dropDatabase();
    } catch (err) {
      log(`could not drop database ${dbName}: ${err.message}`);
    }
  })();
  return cleaningUp;
}

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
]) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    cleanup().finally(() => process.exit(code));
  });
}

function baseEnv() {
  const env = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ', 'SYSTEMROOT']) {
    if (process.env[key] !== undefined) env[key] = process.env[key];
  }
  return env;
}

function appEnvOverrides() {
  const env = { ...scenarioAppEnv };
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('BENCH_APP_') && key.length > 'BENCH_APP_'.length) env[key.slice('BENCH_APP_'.length)] = value;
  }
  return env;
}

async function main() {
  const date = new Date();
  const reference = scenarioList.find((s) => s.reference);
  if (!reference) throw new Error('bench/scenarios.js: no scenario has reference: true');
  let scenarios = scenarioList.filter(
    (s) => s === reference || !config.scenarioFilter.length || config.scenarioFilter.includes(s.name),
  );
  if (baselineOnly) scenarios = scenarios.filter((s) => s.target !== 'app');
  const needsApp = scenarios.some((s) => s.target === 'app');
  const pgbench = pgbenchSetting();
  const needsDb = needsApp || Boolean(pgbench);

  if (needsApp && !existsSync(appEntry)) {
    throw new Error(`${path.relative(root, appEntry)} not found: run "npm run build" first (or use npm run bench)`);
  }
  if (needsDb) await createDatabase();
  const databaseUrl = needsDb ? benchDatabaseUrl() : null;

  // Start both servers in parallel.
  const targets = {};
  const starting = [];
  const basePort = await freePort();
  const baseProc = startNode('baseline', baselineEntry, {
    ...baseEnv(),
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(basePort),
  });
  targets.baseline = { url: `http://127.0.0.1:${basePort}`, proc: baseProc };
  starting.push(waitForHttp(baseProc, `${targets.baseline.url}/`, config.startupTimeout));

  let appEnvironment = null;
  if (needsApp) {
    const appPort = await freePort();
    appEnvironment = {
      ...baseEnv(),
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(appPort),
      DATABASE_URL: databaseUrl,
      DATABASE_SSL: 'false',
      JWT_SECRET: random(32),
      ENCRYPTION_KEYS: random(32),
      MASTER_SECRETS: random(32),
      LOG_LEVEL: 'warn',
      DOCS_ENABLED: 'false',
      ...appEnvOverrides(),
    };
    const appProc = startNode('app', appEntry, appEnvironment);
    targets.app = { url: `http://127.0.0.1:${appPort}`, proc: appProc };
    starting.push(waitForHttp(appProc, `${targets.app.url}/health`, config.startupTimeout));
  }
  await Promise.all(starting);
  log(
    `servers ready: ${Object.entries(targets)
      .map(([k, t]) => `${k}=${t.url}`)
      .join(' ')}`,
  );

  const ctx = makeContext(targets, appEnvironment ?? {}, databaseUrl);
  const results = [];
  for (const scenario of scenarios) {
    log(`running ${scenario.name} (${config.warmup}s warm-up + ${config.duration}s)`);
    results.push(await runScenario(scenario, ctx));
  }

  // The HTTP servers are idle from here on; stop them before pgbench.
  await Promise.all([...children].map(stopChild));

  if (pgbench) {
    log(`running pgbench -N (${pgbench.bin}) for ${config.duration}s`);
    try {
      const r = await runPgbench(pgbench.bin, databaseUrl, config.duration);
      results.push({
        name: 'pgbench -N (tps)',
        kind: 'pgbench',
        requestsPerSec: r.tps,
        p50: null,
        p99: null,
        latencyAvg: r.latencyAvg,
        clients: r.clients,
        threads: r.threads,
        ok: true,
      });
    } catch (err) {
      if (pgbench.required) throw err;
      log(`pgbench failed (ignored, BENCH_PGBENCH not set): ${err.message}`);
      results.push({ name: 'pgbench -N (tps)', kind: 'pgbench', requestsPerSec: null, ok: true, error: err.message });
    }
  }

  const refRps = results.find((r) => r.reference)?.requestsPerSec;
  for (const r of results) r.ratio = typeof r.requestsPerSec === 'number' && refRps ? r.requestsPerSec / refRps : null;

  printTable(results);
  writeResults(results, date);

  const failed = results.filter((r) => !r.ok);
  if (failed.length) {
    log(`FAILED scenarios (errors, timeouts or unexpected non-2xx): ${failed.map((r) => r.name).join(', ')}`);
    return 1;
  }
  return 0;
}

let exitCode;
try {
  exitCode = await main();
} catch (err) {
  console.error(`[bench] ${err.stack ?? err}`);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);
