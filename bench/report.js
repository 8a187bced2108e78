// What bench/run.js prints: the table with its ratio columns, and one line per target of the
// speed work (met, unmet, or not measured). Pure functions of the results, no I/O but `print`.

/** The rows ratios are taken against (scenario names in bench/scenarios.js). */
export const REFERENCES = {
  fastify: 'baseline-hello',
  health: 'app-health',
  pgVerify: 'baseline-pg-verify',
  pgbench: 'pgbench -N (tps)',
};

/** The stated connection count of the latency targets. */
const TARGET_CONNECTIONS = 50;

/**
 * The targets. kind: `ratio` (scenario req/s over the `against` row's req/s or tps),
 * `rps` (req/s), `p99` (ms), `rss` (MB, from the run's memory samples).
 */
export const TARGETS = [
  ...[
    ['devices/verify', 'app-devices-verify'],
    ['otp/validate', 'app-otp-validate'],
    ['keys/code', 'app-keys-code-spread'],
  ].flatMap(([label, scenario]) => [
    { label, kind: 'ratio', scenario, against: REFERENCES.pgbench, min: 0.5 },
    { label: `${label} p99`, kind: 'p99', scenario, max: 50 },
  ]),
  { label: 'devices/verify', kind: 'ratio', scenario: 'app-devices-verify', against: REFERENCES.pgVerify, min: 0.6 },
  { label: 'users/me', kind: 'ratio', scenario: 'app-users-me', against: REFERENCES.health, min: 0.3 },
  { label: 'otp/codes (100 accounts)', kind: 'rps', scenario: 'app-otp-codes-100', min: 1000 },
  {
    label: 'keys/code, one hot unlimited key',
    kind: 'ratio',
    scenario: 'app-keys-code-hot',
    against: REFERENCES.pgbench,
    min: 0.5,
  },
  { label: '/health', kind: 'ratio', scenario: REFERENCES.health, against: REFERENCES.fastify, min: 0.45 },
  { label: 'RSS idle', kind: 'rss', metric: 'idleMb', max: 150 },
  { label: 'RSS peak under the verify load', kind: 'rss', metric: 'verifyPeakMb', max: 250 },
];

const AGAINST_LABEL = {
  [REFERENCES.pgbench]: 'pgbench -N',
  [REFERENCES.pgVerify]: 'bare Fastify+pg verify',
  [REFERENCES.health]: '/health',
  [REFERENCES.fastify]: 'bare Fastify',
};

export const isNumber = (n) => typeof n === 'number' && Number.isFinite(n);

/** `n / d`, or null when either is missing or d is 0. */
export const ratio = (n, d) => (isNumber(n) && isNumber(d) && d > 0 ? n / d : null);

export const formatRatio = (r, digits = 3) => (isNumber(r) ? `${r.toFixed(digits)}x` : '-');

export const formatNumber = (n, digits = 0) => (isNumber(n) ? n.toFixed(digits) : '-');

/** The measured rate of a row: req/s of a scenario, tps of pgbench; null when it did not run or failed to. */
function rateOf(results, name) {
  const r = results.find((x) => x.name === name);
  return r && isNumber(r.requestsPerSec) ? r.requestsPerSec : null;
}

/** Adds vsPgbench, vsHealth, vsFastify to each result (null where the reference did not run). */
export function addRatios(results) {
  const refs = Object.fromEntries(Object.entries(REFERENCES).map(([k, name]) => [k, rateOf(results, name)]));
  for (const r of results) {
    r.vsPgbench = ratio(r.requestsPerSec, refs.pgbench);
    r.vsHealth = ratio(r.requestsPerSec, refs.health);
    r.vsFastify = ratio(r.requestsPerSec, refs.fastify);
    // The column the report always had.
    r.ratio = r.vsFastify;
  }
  return results;
}

/**
 * Each target's verdict: { label, met: true | false | null (not measured), text }.
 * `memory` is { idleMb, verifyPeakMb }; `connections` the run's (latency targets are stated at 50).
 */
export function evaluateTargets(results, { memory = {}, connections = TARGET_CONNECTIONS } = {}) {
  return TARGETS.map((t) => {
    const scenario = t.scenario && results.find((x) => x.name === t.scenario);
    const failed = scenario && !scenario.ok ? ', the scenario FAILED' : '';
    let value;
    let shown;
    let bound;
    if (t.kind === 'ratio') {
      const rate = rateOf(results, t.scenario);
      const against = rateOf(results, t.against);
      value = ratio(rate, against);
      bound = `${t.min}× ${AGAINST_LABEL[t.against] ?? t.against}`;
      const unit = t.against === REFERENCES.pgbench ? 'tps' : 'req/s';
      shown = isNumber(value) && `${value.toFixed(3)}×: ${rate.toFixed(0)} req/s vs ${against.toFixed(0)} ${unit}`;
    } else if (t.kind === 'rps') {
      value = rateOf(results, t.scenario);
      bound = `${t.min} req/s`;
      shown = isNumber(value) && `${value.toFixed(0)} req/s`;
    } else if (t.kind === 'p99') {
      value = scenario && isNumber(scenario.p99) ? scenario.p99 : null;
      bound = `${t.max} ms at ${TARGET_CONNECTIONS} connections`;
      const at = connections === TARGET_CONNECTIONS ? '' : `, measured at ${connections} connections`;
      shown = isNumber(value) && `${value} ms${at}`;
    } else {
      value = isNumber(memory[t.metric]) ? memory[t.metric] : null;
      bound = `${t.max} MB`;
      shown = isNumber(value) && `${value.toFixed(0)} MB`;
    }
    const comparison = t.kind === 'p99' || t.kind === 'rss' ? '≤' : '≥';
    const met = isNumber(value) ? (comparison === '≤' ? value <= t.max : value >= t.min) && !failed : null;
    const verdict = met === null ? 'not measured' : met ? 'met' : 'unmet';
    return {
      label: t.label,
      kind: t.kind,
      bound: `${comparison} ${bound}`,
      value,
      met,
      text: `target: ${t.label} ${comparison} ${bound} — ${verdict}${shown ? ` (${shown}${failed})` : failed ? ` (${failed.slice(2)})` : ''}`,
    };
  });
}

/** Login beside the password hash it is bound by. */
export function loginLine(results, argon2) {
  const login = rateOf(results, 'app-login');
  if (!isNumber(login) && !argon2) return null;
  const hashes = argon2 && isNumber(argon2.hashesPerSec) ? argon2.hashesPerSec : null;
  const left = isNumber(login) ? `${login.toFixed(1)} req/s` : 'not measured';
  const right = hashes
    ? `argon2id ${hashes.toFixed(1)} hashes/s on this machine (the service's parameters, ${argon2.concurrency} at a time)`
    : 'argon2id rate not measured';
  const share = ratio(login, hashes);
  return `login: ${left} beside ${right}${isNumber(share) ? `: ${share.toFixed(2)}× of the hash rate` : ''}`;
}

/** Aligned text table: first column left, the others right. */
export function formatTable(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  const line = (row) =>
    row.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

const percent = (cores) => (isNumber(cores) ? `${Math.round(cores * 100)}%` : '-');

/** The main table. */
export function resultsTable(results) {
  return formatTable([
    [
      'scenario',
      'req/s',
      'p50 ms',
      'p99 ms',
      'vs pgbench',
      'vs /health',
      'vs fastify',
      'gen cpu',
      'srv cpu',
      'errors/non2xx',
    ],
    ...results.map((r) => [
      r.name + (r.ok ? '' : '  (FAILED)'),
      formatNumber(r.requestsPerSec, 0),
      formatNumber(r.p50, 0),
      formatNumber(r.p99, 0),
      formatRatio(r.vsPgbench),
      formatRatio(r.vsHealth),
      formatRatio(r.vsFastify),
      percent(r.loadGenCpu),
      percent(r.serverCpu),
      r.kind === 'http' ? `${r.errors + r.timeouts}/${r.non2xx}` : r.error ? 'error' : '-',
    ]),
  ]);
}
