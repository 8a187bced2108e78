// Benchmark runner: measures the built app against baselines taken in the same run: a bare
// Fastify hello world, a bare Fastify + pg device verify, and pgbench -N. See bench/README.md.
//
//   npm run bench                       # build, then node bench/run.js
//   node bench/run.js --baseline-only   # no app: baseline (+ pgbench) only
//   node bench/run.js --peer bench/peers/<name>.js --peer-url http://host:port [--peer-option k=v ...]
//                                       # side by side: the adapter's workloads against the peer and this service
//
// Environment:
//   BENCH_DATABASE_URL   admin connection (default postgres://postgres@127.0.0.1:5432/postgres);
//                        a fresh database otp_bench_<pid> is created from it and dropped afterwards
//   BENCH_DURATION       seconds per scenario (10)
//   BENCH_CONNECTIONS    concurrent connections (50; side by side 20)
//   BENCH_WARMUP         warm-up seconds per scenario (2)
//   BENCH_PGBENCH        1/0: pgbench -N baseline row (default: on when pgbench is installed)
//   BENCH_ARGON2         1/0: measure argon2id hashes/s beside login (default 1 when app-login runs)
//   BENCH_SCENARIOS      comma list of scenario names to run (the reference baseline always runs)
//   BENCH_STARTUP_TIMEOUT seconds to wait for /health (60)
//   BENCH_ENTRY          app entry point (default dist/src/main.js)
//   BENCH_APP_NODE_ARGS  extra node flags for the app, space-separated (e.g. "--cpu-prof --cpu-prof-dir=DIR",
//                        which NODE_OPTIONS does not take; see bench/profile-layers.js)
//   BENCH_APP_<NAME>     passed to the app as <NAME> (e.g. BENCH_APP_REDIS_URL)
//   BENCH_LOADGEN_CPUS   pin this process (the load generator) to these CPUs (taskset list, e.g. "1")
//   BENCH_SERVER_CPUS    start the app and the baseline servers pinned to these CPUs (e.g. "0")
//   BENCH_PEER, BENCH_PEER_URL, BENCH_PEER_OPTIONS (JSON)   the --peer, --peer-url, --peer-option flags
//   BENCH_WORKLOADS      side by side: comma list of workloads (default: all the adapter has)
/* global AbortSignal, setInterval, clearInterval */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { BENCH_ADMIN_PASSWORD } from './keys.js';
import { addRatios, evaluateTargets, loginLine, REFERENCES, resultsTable } from './report.js';
import scenarioList, { appEnv as scenarioAppEnv } from './scenarios.js';
import { adapterContext, loadAdapter, peerOptions, runWorkload, sideBySideTable, WORKLOADS } from './side-by-side.js';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(benchDir, '..');
const resultsDir = path.join(benchDir, 'results');
const appEntry = path.resolve(root, process.env.BENCH_ENTRY || 'dist/src/main.js');
const baselineEntry = path.join(benchDir, 'baseline-server.js');
const pgVerifyEntry = path.join(benchDir, 'baseline-pg-verify.js');
const selfAdapterFile = path.join(benchDir, 'peers', 'self.js');
const argon2Script = path.join(benchDir, 'argon2-rate.js');
const appNodeArgs = (process.env.BENCH_APP_NODE_ARGS || '').split(' ').filter(Boolean);

const USAGE = `usage: node bench/run.js [--baseline-only]
       node bench/run.js --peer bench/peers/<name>.js --peer-url http://host:port [--peer-option name=value ...]
(settings via BENCH_* env, see the header of bench/run.js and bench/README.md)`;

const { args, peer } = parseCommandLine();
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const baselineOnly = args.baselineOnly;
if (Boolean(peer.file) !== Boolean(peer.url)) {
  console.error(`side by side needs both an adapter (--peer) and its base URL (--peer-url)\n${USAGE}`);
  process.exit(2);
}
const sideBySide = Boolean(peer.file);

/** The flags and the peer settings (flags over BENCH_PEER*); a mistake in them ends the run with the usage. */
function parseCommandLine() {
  try {
    const parsed = parseArgs(process.argv.slice(2));
    return {
      args: parsed,
      peer: {
        file: parsed.peer ?? process.env.BENCH_PEER ?? null,
        url: parsed.peerUrl ?? process.env.BENCH_PEER_URL ?? null,
        options: peerOptions(process.env.BENCH_PEER_OPTIONS, parsed.peerOptions),
      },
    };
  } catch (err) {
    console.error(`${err.message}\n${USAGE}`);
    process.exit(2);
  }
}

/** --flag value and --flag=value; --peer-option repeats. */
function parseArgs(list) {
  const out = { help: false, baselineOnly: false, peerOptions: [] };
  const valued = { '--peer': 'peer', '--peer-url': 'peerUrl', '--peer-option': 'peerOptions' };
  for (let i = 0; i < list.length; i++) {
    const [flag, inline] = list[i].startsWith('--') && list[i].includes('=') ? list[i].split(/=(.*)/s) : [list[i]];
    if (flag === '--help' || flag === '-h') out.help = true;
    else if (flag === '--baseline-only') out.baselineOnly = true;
    else if (valued[flag]) {
      const value = inline ?? list[++i];
      if (value === undefined) throw new Error(`${flag} needs a value`);
      if (flag === '--peer-option') out.peerOptions.push(value);
      else out[valued[flag]] = value;
    } else throw new Error(`unknown argument ${list[i]}`);
  }
  return out;
}

const config = {
  adminUrl: process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  duration: positiveInt('BENCH_DURATION', 10),
  // The side-by-side figures of the speed work were taken at 20 (single-process peers).
  connections: positiveInt('BENCH_CONNECTIONS', sideBySide ? 20 : 50),
  warmup: nonNegativeInt('BENCH_WARMUP', 2),
  startupTimeout: positiveInt('BENCH_STARTUP_TIMEOUT', 60),
  scenarioFilter: (process.env.BENCH_SCENARIOS || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  workloadFilter: (process.env.BENCH_WORKLOADS || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  loadgenCpus: process.env.BENCH_LOADGEN_CPUS || null,
  serverCpus: process.env.BENCH_SERVER_CPUS || null,
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

function startNode(name, script, env, nodeArgs = []) {
  // taskset execs node, so the child's pid is the server's (its /proc figures below).
  const [bin, argList] = config.serverCpus
    ? ['taskset', ['-c', config.serverCpus, process.execPath, ...nodeArgs, script]]
    : [process.execPath, [...nodeArgs, script]];
  const child = spawn(bin, argList, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
// process figures (Linux /proc; null elsewhere)
// ---------------------------------------------------------------------------
const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** Resident set size of a process, MB (VmRSS of /proc/<pid>/status). */
function rssMb(pid) {
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return kb ? Number(kb[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a process has used, all its threads. */
function cpuSecondsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks; // utime, stime
  } catch {
    return null;
  }
}

/** Samples a process's RSS every 100 ms until stopped; answers the peak, MB. */
function rssPeakSampler(pid) {
  let peak = rssMb(pid);
  const timer = setInterval(() => {
    const now = rssMb(pid);
    if (now !== null && (peak === null || now > peak)) peak = now;
  }, 100);
  return () => {
    clearInterval(timer);
    return peak;
  };
}

/** Pins this process (every thread: autocannon runs in it) to `cpus`. */
function pinSelf(cpus) {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`BENCH_LOADGEN_CPUS=${cpus}: taskset failed: ${r.stderr || r.error?.message}`);
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

function exec(bin, args, env = process.env) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
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

/**
 * Runs autocannon with `opts` and answers its result plus the CPU the load generator (this
 * process) and the target server used meanwhile, in cores (1 = one core busy all along).
 */
async function measured(opts, pid) {
  const started = process.hrtime.bigint();
  const ownBefore = process.cpuUsage();
  const serverBefore = cpuSecondsOf(pid);
  const r = await cannon(opts);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const own = process.cpuUsage(ownBefore);
  const serverAfter = cpuSecondsOf(pid);
  return {
    r,
    loadGenCpu: (own.user + own.system) / 1e6 / seconds,
    serverCpu: serverBefore === null || serverAfter === null ? null : (serverAfter - serverBefore) / seconds,
  };
}

async function runScenario(scenario, ctx) {
  const target = ctx.targets[scenario.target];
  if (!target) throw new Error(`scenario ${scenario.name}: unknown or unavailable target "${scenario.target}"`);
  const effective = scenario.setup ? { ...scenario, ...((await scenario.setup(ctx)) ?? {}) } : scenario;
  const opts = requestOptions(effective, target.url);
  const stopSampling = rssPeakSampler(target.proc.child.pid);
  if (config.warmup > 0) await cannon({ ...opts, duration: config.warmup });
  if (effective.outcomes) for (const k of Object.keys(effective.outcomes)) effective.outcomes[k] = 0;
  const { r, loadGenCpu, serverCpu } = await measured({ ...opts, duration: config.duration }, target.proc.child.pid);
  const rssPeak = stopSampling();
  if (!target.proc.running) {
    throw new Error(`${target.proc.name} died during ${scenario.name}\n${target.proc.output()}`);
  }
  const failures = r.errors + r.timeouts + (effective.allowNon2xx ? 0 : r.non2xx);
  if (effective.outcomes?.invalid > 0) {
    log(`${scenario.name}: ${effective.outcomes.invalid} of the measured answers were not a success`);
  }
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
    ...(effective.outcomes && { outcomes: { ...effective.outcomes } }),
    loadGenCpu,
    serverCpu,
    rssPeakMb: rssPeak,
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
function footer(extra = '', { columns = true } = {}) {
  const pinning =
    config.loadgenCpus || config.serverCpus
      ? `load generator on CPUs ${config.loadgenCpus ?? 'any'}, servers on CPUs ${config.serverCpus ?? 'any'}`
      : 'no CPU pinning';
  return (
    `${config.duration}s per scenario (+${config.warmup}s warm-up), ${config.connections} connections, ` +
    `node ${process.version}, ${os.cpus().length} CPUs; load generator: autocannon in the runner process` +
    `${columns ? " (gen cpu = its share of one core during the run, srv cpu = the target server's)" : ''}, ${pinning}${extra}`
  );
}

function printReport(results, { memory, argon2 }) {
  console.log(`\n${resultsTable(results)}\n`);
  const targets = evaluateTargets(results, { memory, connections: config.connections });
  for (const t of targets) console.log(t.text);
  const login = loginLine(results, argon2);
  if (login) console.log(login);
  const rss = (mb) => (typeof mb === 'number' ? `${mb.toFixed(0)} MB` : 'not measured');
  console.log(
    `service RSS: idle ${rss(memory.idleMb)} (after a warm-up, before load), peak under the verify load ` +
      `${rss(memory.verifyPeakMb)}, peak over the run ${rss(memory.runPeakMb)}`,
  );
  console.log(`node: ${process.version}`);
  console.log(`\n${footer()}`);
  return targets;
}

function gitCommit() {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function writeResults(date, fields) {
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
    loadgenCpus: config.loadgenCpus,
    serverCpus: config.serverCpus,
    baselineOnly,
    ...fields,
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

/** Starts the app on a free port against the bench database; answers { env, target }. */
async function startApp(databaseUrl) {
  const port = await freePort();
  const env = {
    ...baseEnv(),
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    DATABASE_SSL: 'false',
    JWT_SECRET: random(32),
    ENCRYPTION_KEYS: random(32),
    MASTER_SECRETS: random(32),
    LOG_LEVEL: 'warn',
    DOCS_ENABLED: 'false',
    ...appEnvOverrides(),
  };
  const proc = startNode('app', appEntry, env, appNodeArgs);
  const target = { url: `http://127.0.0.1:${port}`, proc };
  await waitForHttp(proc, `${target.url}/health`, config.startupTimeout);
  return { env, target };
}

/** A short load on /health, a pause, then the app's RSS: its idle footprint once warm. */
async function idleRss(target) {
  await cannon({ url: `${target.url}/health`, connections: 10, duration: Math.max(1, config.warmup) });
  await sleep(1000);
  return rssMb(target.proc.child.pid);
}

/** argon2id hashes/s with the service's hasher, in a process of its own while nothing else runs. */
async function measureArgon2() {
  const seconds = Math.min(config.duration, 5);
  // With the service's memory settings: they decide where argon2's 19 MiB blocks come from.
  const { NODE_OPTIONS, MALLOC_MMAP_THRESHOLD_ } = scenarioAppEnv;
  const out = await exec(process.execPath, [argon2Script, String(seconds)], {
    ...process.env,
    NODE_OPTIONS,
    MALLOC_MMAP_THRESHOLD_,
  });
  return JSON.parse(out.trim().split('\n').pop());
}

async function runPgbenchRow(pgbench, databaseUrl) {
  log(`running pgbench -N (${pgbench.bin}) for ${config.duration}s`);
  try {
    const r = await runPgbench(pgbench.bin, databaseUrl, config.duration);
    return {
      name: REFERENCES.pgbench,
      kind: 'pgbench',
      requestsPerSec: r.tps,
      p50: null,
      p99: null,
      latencyAvg: r.latencyAvg,
      clients: r.clients,
      threads: r.threads,
      ok: true,
    };
  } catch (err) {
    if (pgbench.required) throw err;
    log(`pgbench failed (ignored, BENCH_PGBENCH not set): ${err.message}`);
    return { name: REFERENCES.pgbench, kind: 'pgbench', requestsPerSec: null, ok: true, error: err.message };
  }
}

async function main() {
  if (config.loadgenCpus) pinSelf(config.loadgenCpus);
  return sideBySide ? mainSideBySide() : mainScenarios();
}

async function mainScenarios() {
  const date = new Date();
  const reference = scenarioList.find((s) => s.reference);
  if (!reference) throw new Error('bench/scenarios.js: no scenario has reference: true');
  let scenarios = scenarioList.filter(
    (s) => s === reference || !config.scenarioFilter.length || config.scenarioFilter.includes(s.name),
  );
  if (baselineOnly) scenarios = scenarios.filter((s) => s.target === 'baseline');
  const needsApp = scenarios.some((s) => s.target !== 'baseline');
  const needsPgVerify = scenarios.some((s) => s.target === 'pgVerify');
  const pgbench = pgbenchSetting();
  const needsDb = needsApp || Boolean(pgbench);

  if (needsApp && !existsSync(appEntry)) {
    throw new Error(`${path.relative(root, appEntry)} not found: run "npm run build" first (or use npm run bench)`);
  }
  if (needsDb) await createDatabase();
  const databaseUrl = needsDb ? benchDatabaseUrl() : null;

  // The Fastify baseline and the app start in parallel; the pg verify baseline needs the
  // schema, which the app migrates on start.
  const targets = {};
  const basePort = await freePort();
  const baseProc = startNode('baseline', baselineEntry, {
    ...baseEnv(),
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(basePort),
  });
  targets.baseline = { url: `http://127.0.0.1:${basePort}`, proc: baseProc };
  const baseReady = waitForHttp(baseProc, `${targets.baseline.url}/`, config.startupTimeout);
  let appEnvironment = null;
  if (needsApp) {
    const app = await startApp(databaseUrl);
    appEnvironment = app.env;
    targets.app = app.target;
  }
  await baseReady;
  if (needsPgVerify) {
    const port = await freePort();
    const proc = startNode('pg-verify', pgVerifyEntry, {
      ...baseEnv(),
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      MASTER_SECRETS: appEnvironment.MASTER_SECRETS,
    });
    targets.pgVerify = { url: `http://127.0.0.1:${port}`, proc };
    await waitForHttp(proc, `${targets.pgVerify.url}/`, config.startupTimeout);
  }
  log(
    `servers ready: ${Object.entries(targets)
      .map(([k, t]) => `${k}=${t.url}`)
      .join(' ')}`,
  );

  const memory = { idleMb: null, verifyPeakMb: null, runPeakMb: null };
  let stopRunSampling = () => null;
  if (targets.app) {
    memory.idleMb = await idleRss(targets.app);
    log(`app idle RSS after warm-up: ${memory.idleMb?.toFixed(0)} MB`);
    stopRunSampling = rssPeakSampler(targets.app.proc.child.pid);
  }

  const ctx = makeContext(targets, appEnvironment ?? {}, databaseUrl);
  const results = [];
  for (const scenario of scenarios) {
    log(`running ${scenario.name} (${config.warmup}s warm-up + ${config.duration}s)`);
    results.push(await runScenario(scenario, ctx));
  }
  memory.runPeakMb = stopRunSampling();
  memory.verifyPeakMb = results.find((r) => r.name === 'app-devices-verify')?.rssPeakMb ?? null;

  // The HTTP servers are idle from here on; stop them before argon2 and pgbench.
  await Promise.all([...children].map(stopChild));

  let argon2 = null;
  const argon2Flag = process.env.BENCH_ARGON2;
  if (argon2Flag !== '0' && (argon2Flag === '1' || results.some((r) => r.name === 'app-login'))) {
    log("measuring argon2id hashes/s (the service's hasher)");
    argon2 = await measureArgon2();
  }
  if (pgbench) results.push(await runPgbenchRow(pgbench, databaseUrl));

  addRatios(results);
  const targetLines = printReport(results, { memory, argon2 });
  writeResults(date, { results, memory, argon2, targets: targetLines });

  const failed = results.filter((r) => !r.ok);
  if (failed.length) {
    log(`FAILED scenarios (errors, timeouts or unexpected non-2xx): ${failed.map((r) => r.name).join(', ')}`);
    return 1;
  }
  return 0;
}

/** The adapter's workloads against the peer and against this service, one after the other, same load generator. */
async function mainSideBySide() {
  const date = new Date();
  const peerAdapter = await loadAdapter(peer.file);
  const selfAdapter = await loadAdapter(selfAdapterFile);
  const names = Object.keys(WORKLOADS).filter(
    (n) => (!config.workloadFilter.length || config.workloadFilter.includes(n)) && peerAdapter.workloads[n],
  );
  const unknown = config.workloadFilter.filter((n) => !(n in WORKLOADS));
  if (unknown.length) throw new Error(`BENCH_WORKLOADS: unknown ${unknown.join(', ')}`);
  if (names.length === 0) throw new Error(`${peer.file}: none of the selected workloads is described`);
  if (!existsSync(appEntry)) {
    throw new Error(`${path.relative(root, appEntry)} not found: run "npm run build" first (or use npm run bench)`);
  }
  await createDatabase();
  const { target } = await startApp(benchDatabaseUrl());
  log(`this service at ${target.url}; peer "${peerAdapter.name}" at ${peer.url}`);
  const selfCtx = adapterContext(target.url, {
    options: { adminUsername: 'admin', adminPassword: BENCH_ADMIN_PASSWORD },
    log,
    label: 'this service',
  });
  const peerCtx = adapterContext(peer.url, { options: peer.options, log, label: `peer ${peerAdapter.name}` });

  const rows = [];
  for (const name of names) {
    const row = { workload: name, peer: null, self: null };
    const run = (adapter, ctx) =>
      runWorkload({
        name,
        workload: adapter.workloads[name],
        ctx,
        cannon,
        warmup: config.warmup,
        duration: config.duration,
        connections: config.connections,
      });
    log(`${name}: peer (${config.warmup}s warm-up + ${config.duration}s)`);
    row.peer = await run(peerAdapter, peerCtx);
    if (selfAdapter.workloads[name]) {
      log(`${name}: this service (${config.warmup}s warm-up + ${config.duration}s)`);
      row.self = await run(selfAdapter, selfCtx);
    }
    if (!target.proc.running) throw new Error(`the app died during ${name}\n${target.proc.output()}`);
    rows.push(row);
  }
  await Promise.all([...children].map(stopChild));

  console.log(`\n${sideBySideTable(rows, peerAdapter.name)}\n`);
  console.log("ratio = this service's req/s over the peer's; valid = answers the adapter's check accepted");
  console.log(footer(`; peer ${peer.url} (${path.relative(root, path.resolve(peer.file))})`, { columns: false }));
  writeResults(date, { sideBySide: { peer: peerAdapter.name, peerUrl: peer.url, adapter: peer.file, rows } });
  const failed = rows.flatMap((r) => [r.peer, r.self]).filter((r) => r && !r.ok);
  if (failed.length) {
    log(`FAILED (errors, timeouts or non-2xx): ${failed.map((r) => `${r.workload} on ${r.side}`).join(', ')}`);
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
