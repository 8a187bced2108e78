// Where a server's CPU time goes, by layer, from a V8 CPU profile (.cpuprofile).
//
//   BENCH_SCENARIOS=app-devices-verify \
//   BENCH_APP_NODE_ARGS="--cpu-prof --cpu-prof-dir=bench/results/prof" \
//   node bench/run.js
//   node bench/profile-layers.js bench/results/prof/CPU.*.cpuprofile
//
// Each sample's own (self) time is given to the layer of the code running; idle time is the
// server waiting (for the database, or for requests) and is reported apart from the busy share.
import { readFileSync } from 'node:fs';

/** Layers in the order they are printed; the first matching rule names a frame's layer. */
const LAYERS = [
  [
    'start-up (module loading)',
    (url) => /^node:internal\/(modules|deps\/cjs-module-lexer)|^node:internal\/bootstrap/.test(url),
  ],
  // JSON.parse / JSON.stringify themselves (native, no url) and Fastify's safe JSON parser.
  ['JSON', (url, name) => (url === '' && (name === 'parse' || name === 'stringify')) || /secure-json-parse/.test(url)],
  [
    'Fastify',
    (url) =>
      /node_modules\/(fastify|find-my-way|avvio|light-my-request|@fastify|secure-json-parse|fast-json-stringify|fast-querystring)\//.test(
        url,
      ),
  ],
  [
    'Nest pipeline',
    (url) => /node_modules\/(@nestjs|rxjs|reflect-metadata|iterare|passport|passport-jwt|passport-custom)\//.test(url),
  ],
  ['validation', (url) => /node_modules\/(class-validator|class-transformer|validator|libphonenumber-js)\//.test(url)],
  ['logging', (url) => /node_modules\/(pino|pino-std-serializers|sonic-boom|nestjs-pino|pino-http)\//.test(url)],
  ['ORM (TypeORM)', (url) => /node_modules\/typeorm\//.test(url)],
  [
    'driver (pg)',
    (url) =>
      /node_modules\/(pg|pg-protocol|pg-pool|pg-types|postgres-date|postgres-array|pg-cloudflare|pgpass)\//.test(url),
  ],
  ['JWT', (url) => /node_modules\/(jsonwebtoken|jws|jwa)\//.test(url)],
  [
    'crypto',
    (url, name) =>
      /^node:internal\/crypto|node_modules\/@otplib\//.test(url) || /^(Hmac|Hash|Cipher|Decipher)/.test(name),
  ],
  ['metrics (prom-client)', (url) => /node_modules\/prom-client\//.test(url)],
  ['Redis client', (url) => /node_modules\/(ioredis|@nest-lab)\//.test(url)],
  ['the service', (url) => /\/dist\/src\//.test(url)],
  [
    'Node HTTP, sockets, syscalls',
    (url, name) =>
      /^node:(_http|net|internal\/stream|internal\/streams|stream|internal\/http|events)/.test(url) ||
      /^(writev|writeBuffer|writeUtf8String|read|close|fstat|openFileHandle)$/.test(name),
  ],
  [
    'promises, async hooks, timers',
    (url, name) =>
      /^node:(internal\/async_hooks|async_hooks|internal\/process\/task_queues|internal\/timers|timers)/.test(url) ||
      name === 'runMicrotasks',
  ],
  ['garbage collection', (_url, name) => name === '(garbage collector)'],
];

export function layerShares(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map();
  let idle = 0;
  let busy = 0;
  profile.samples.forEach((id, index) => {
    const time = profile.timeDeltas[index] ?? 0;
    const { url, functionName } = byId.get(id).callFrame;
    if (functionName === '(idle)') {
      idle += time;
      return;
    }
    busy += time;
    const layer = LAYERS.find(([, matches]) => matches(url ?? '', functionName ?? ''))?.[0] ?? 'other';
    totals.set(layer, (totals.get(layer) ?? 0) + time);
  });
  const order = [...LAYERS.map(([name]) => name), 'other'];
  const layers = order
    .filter((name) => totals.has(name))
    .map((name) => ({ layer: name, share: totals.get(name) / busy, ms: totals.get(name) / 1000 }));
  return { busyMs: busy / 1000, idleMs: idle / 1000, layers };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: node bench/profile-layers.js <file.cpuprofile> ...');
    process.exit(2);
  }
  for (const file of files) {
    const { busyMs, idleMs, layers } = layerShares(JSON.parse(readFileSync(file, 'utf8')));
    console.log(
      `${file}: busy ${busyMs.toFixed(0)} ms, idle (waiting for the database or clients) ${idleMs.toFixed(0)} ms`,
    );
    for (const { layer, share, ms } of layers) {
      console.log(`  ${(share * 100).toFixed(1).padStart(5)} %  ${layer.padEnd(32)} ${ms.toFixed(0).padStart(7)} ms`);
    }
  }
}
