// Micro-benchmark of the OTP engine (no HTTP, no database): code generation per
// algorithm, the TOTP and HOTP checks, and the 100 live codes that one GET /otp/codes
// answer computes. Rates are operations per CPU second of this process, so other load
// on the machine disturbs them less than wall-clock rates. Run after `npm run build`:
//
//   node bench/otp-engine.js                                  # dist/src/otp/otp-engine.js
//   BENCH_OTP_COMPARE=/tmp/old/dist/src/otp/otp-engine.js node bench/otp-engine.js
//
// BENCH_OTP_COMPARE loads a second build (e.g. `git worktree add` + `npm run build` of
// another commit) into the same process; rounds of the two alternate and the ratio is
// printed. BENCH_OTP_N sets the operations per round (50,000); each case runs 9 rounds
// after a warm-up and reports the median.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const N = Number(process.env.BENCH_OTP_N || 50_000);
const ROUNDS = 9;
const NOW = 1_700_000_015_000;
const SECRETS = { sha1: Buffer.alloc(20, 7), sha256: Buffer.alloc(32, 7), sha512: Buffer.alloc(64, 7) };

const engines = [['this build', await import('../dist/src/otp/otp-engine.js')]];
if (process.env.BENCH_OTP_COMPARE) {
  const other = pathToFileURL(path.resolve(process.env.BENCH_OTP_COMPARE)).href;
  engines.push(['compared', await import(other)]);
}

function cases(engine) {
  const totp = { secret: SECRETS.sha1, algorithm: 'sha1', digits: 6, period: 30 };
  const current = engine.generateTotp({ ...totp, now: NOW }).code;
  const hotp = (algorithm) => (i) =>
    engine.generateHotp({ secret: SECRETS[algorithm], algorithm, digits: 6, counter: i });
  return [
    ['generateHotp sha1', N, hotp('sha1')],
    ['generateHotp sha256', N, hotp('sha256')],
    ['generateHotp sha512', N, hotp('sha512')],
    ['generateTotp sha1', N, (i) => engine.generateTotp({ ...totp, now: NOW + i * 1000 })],
    ['verifyTotp sha1, window 1 (3 codes)', N / 3, () => engine.verifyTotp({ ...totp, now: NOW, code: current })],
    ['verifyHotp sha1, miss (11 codes)', N / 11, (i) => engine.verifyHotp({ ...totp, counter: i, code: '000000' })],
    [
      '100 TOTP codes (one GET /otp/codes)',
      N / 100,
      (i) => {
        for (let k = 0; k < 100; k++) engine.generateTotp({ ...totp, now: NOW + (i + k) * 1000 });
      },
    ],
  ];
}

function cpuSeconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const perEngine = engines.map(([, engine]) => cases(engine));
const header = engines.map(([label]) => label.padStart(12)).join('');
console.log(`${'ops per CPU second (median)'.padEnd(40)}${header}${engines.length > 1 ? '   ratio' : ''}`);
for (let c = 0; c < perEngine[0].length; c++) {
  const [name, operations] = perEngine[0][c];
  const rates = engines.map(() => []);
  perEngine.forEach((list) => {
    for (let i = 0; i < Math.min(operations, 3_000); i++) list[c][2](i);
  });
  for (let round = 0; round < ROUNDS; round++) {
    perEngine.forEach((list, e) => {
      const fn = list[c][2];
      const start = cpuSeconds();
      for (let i = 0; i < operations; i++) fn(i);
      rates[e].push(operations / (cpuSeconds() - start));
    });
  }
  const medians = rates.map(median);
  const ratio = medians.length > 1 ? `   ${(medians[0] / medians[1]).toFixed(2)}x` : '';
  console.log(`${name.padEnd(40)}${medians.map((m) => String(Math.round(m)).padStart(12)).join('')}${ratio}`);
}
