// Side by side: the same workloads, by the same load generator in the same run, against this
// service and against a peer (any other OTP service) described by an adapter file. See the
// "Side by side" section of bench/README.md for the adapter format; bench/peers/self.js is
// the adapter of this service (used for this service's side, and for a peer that is another
// instance of it).
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatNumber, formatRatio, formatTable, isNumber, ratio } from './report.js';

/** The workloads an adapter may describe, in the order they run. */
export const WORKLOADS = {
  deviceVerify: 'device verify, a fresh valid code each request',
  keyCode: 'code from one unlimited usage-limited key',
  liveCodes: 'all live codes of one person with 100 accounts',
  totpVerify: 'TOTP verify, a fresh valid code each request',
};

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/** Checks an adapter's shape; answers it with its workloads in WORKLOADS order. Throws naming the problem. */
export function validateAdapter(adapter, source = 'adapter') {
  if (!adapter || typeof adapter !== 'object') throw new Error(`${source}: the default export must be an object`);
  const { workloads } = adapter;
  if (!workloads || typeof workloads !== 'object') throw new Error(`${source}: no "workloads" object`);
  const unknown = Object.keys(workloads).filter((name) => !(name in WORKLOADS));
  if (unknown.length > 0) {
    throw new Error(`${source}: unknown workload ${unknown.join(', ')} (known: ${Object.keys(WORKLOADS).join(', ')})`);
  }
  for (const [name, w] of Object.entries(workloads)) {
    const where = `${source}: workloads.${name}`;
    if (!w || typeof w !== 'object') throw new Error(`${where} must be an object`);
    if (typeof w.request !== 'function') throw new Error(`${where}.request must be a function (state) => request`);
    for (const fn of ['setup', 'check']) {
      if (w[fn] !== undefined && typeof w[fn] !== 'function') throw new Error(`${where}.${fn} must be a function`);
    }
    if (w.connections !== undefined && !(Number.isInteger(w.connections) && w.connections > 0)) {
      throw new Error(`${where}.connections must be a positive integer`);
    }
  }
  const ordered = Object.keys(WORKLOADS).filter((name) => workloads[name]);
  if (ordered.length === 0) throw new Error(`${source}: "workloads" is empty`);
  return {
    name: adapter.name ?? path.basename(source, '.js'),
    workloads: Object.fromEntries(ordered.map((n) => [n, workloads[n]])),
  };
}

export async function loadAdapter(file) {
  const mod = await import(pathToFileURL(path.resolve(file)).href);
  return validateAdapter(mod.default, file);
}

/** Turns what an adapter's `request(state)` answered into an autocannon request. Throws on a malformed one. */
export function buildRequest(spec, { pathPrefix = '' } = {}) {
  if (!spec || typeof spec !== 'object') throw new Error('request(state) must answer an object');
  const method = (spec.method ?? 'GET').toUpperCase();
  if (!METHODS.has(method)) throw new Error(`request(state): unsupported method ${spec.method}`);
  if (typeof spec.path !== 'string' || !spec.path.startsWith('/')) {
    throw new Error(`request(state): path must start with "/", got ${JSON.stringify(spec.path)}`);
  }
  const headers = { ...(spec.headers ?? {}) };
  let body = spec.body;
  if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
    body = JSON.stringify(body);
    const typed = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
    if (!typed) headers['content-type'] = 'application/json';
  }
  return { method, path: pathPrefix + spec.path, headers, ...(body !== undefined && { body }) };
}

/** What an adapter's setup gets: the base URL, JSON requests over fetch, its options. */
export function adapterContext(baseUrl, { options = {}, log = () => {}, label = 'peer' } = {}) {
  const base = new URL(baseUrl);
  const prefix = base.pathname.replace(/\/$/, '');
  const url = (p) => new URL(prefix + p, base.origin).toString();
  return {
    url,
    baseUrl: base.toString(),
    label,
    options,
    log: (...args) => log(`${label}:`, ...args),
    random: (bytes = 16) => randomBytes(bytes).toString('base64url'),
    async request(method, p, { body, headers = {} } = {}) {
      const init = { method, headers: { ...headers }, signal: globalThis.AbortSignal.timeout(30_000) };
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        if (typeof body !== 'string') init.headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(url(p), init);
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

/**
 * Runs one workload of one side: setup, warm-up, measured run. `cannon(opts)` is the runner's
 * load generator (autocannon with its settings).
 */
export async function runWorkload({ name, workload, ctx, cannon, warmup, duration, connections }) {
  const state = workload.setup ? await workload.setup(ctx) : undefined;
  const pathPrefix = new URL(ctx.baseUrl).pathname.replace(/\/$/, '');
  const first = buildRequest(workload.request(state), { pathPrefix });
  const outcomes = { valid: 0, invalid: 0 };
  const requests = [
    {
      setupRequest: (request) => ({ ...request, ...buildRequest(workload.request(state), { pathPrefix }) }),
      ...(workload.check && {
        onResponse(status, body) {
          outcomes[workload.check(status, body, state) ? 'valid' : 'invalid']++;
        },
      }),
    },
  ];
  const opts = {
    url: new URL(ctx.baseUrl).origin,
    ...first,
    requests,
    connections: workload.connections ?? connections,
  };
  if (warmup > 0) await cannon({ ...opts, duration: warmup });
  outcomes.valid = 0;
  outcomes.invalid = 0;
  const r = await cannon({ ...opts, duration });
  const failures = r.errors + r.timeouts + (workload.allowNon2xx ? 0 : r.non2xx);
  return {
    workload: name,
    side: ctx.label,
    requestsPerSec: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    totalRequests: r.requests.total,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    ...(workload.check && { valid: outcomes.valid, invalid: outcomes.invalid }),
    ok: failures === 0,
  };
}

/** One row per workload: the peer, this service, and this service's req/s over the peer's. */
export function sideBySideTable(rows, peerName) {
  const side = (r) => (r ? `${formatNumber(r.requestsPerSec, 0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms` : '-');
  const valid = (r) =>
    r && isNumber(r.valid) ? `${Math.round((100 * r.valid) / Math.max(1, r.valid + r.invalid))}%` : '-';
  return formatTable([
    ['workload', `peer: ${peerName}`, 'valid', 'this service', 'valid', 'ratio'],
    ...rows.map(({ workload, peer, self }) => [
      WORKLOADS[workload] ?? workload,
      side(peer) + (peer && !peer.ok ? ' (FAILED)' : ''),
      valid(peer),
      side(self) + (self && !self.ok ? ' (FAILED)' : ''),
      valid(self),
      formatRatio(ratio(self?.requestsPerSec, peer?.requestsPerSec), 2),
    ]),
  ]);
}

/** Peer options: BENCH_PEER_OPTIONS (a JSON object), then each `--peer-option name=value`. */
export function peerOptions(envJson, flags) {
  let options = {};
  if (envJson) {
    try {
      options = JSON.parse(envJson);
    } catch (err) {
      throw new Error(`BENCH_PEER_OPTIONS is not JSON: ${err.message}`, { cause: err });
    }
    if (!options || typeof options !== 'object' || Array.isArray(options)) {
      throw new Error('BENCH_PEER_OPTIONS must be a JSON object');
    }
  }
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq < 1) throw new Error(`--peer-option wants name=value, got "${flag}"`);
    options[flag.slice(0, eq)] = flag.slice(eq + 1);
  }
  return options;
}
