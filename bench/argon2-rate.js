// argon2id hashes per second on this machine, with the service's own hasher (its parameters,
// its library), so the login figure can be read against what bounds it. Run by bench/run.js
// in a process of its own while nothing else of the bench runs; by hand after `npm run build`:
//
//   node bench/argon2-rate.js [seconds=5] [concurrency=4]
//
// Concurrency defaults to 4, libuv's thread pool (where argon2 runs) in the service too.
// Prints one JSON line: { hashesPerSec, hashes, seconds, concurrency }.
import { performance } from 'node:perf_hooks';
import { hashPassword } from '../dist/src/users/password-hasher.js';

const seconds = Number(process.argv[2] ?? 5);
const concurrency = Number(process.argv[3] ?? process.env.UV_THREADPOOL_SIZE ?? 4);

await hashPassword('warm-up-password'); // first call loads the native module
const started = performance.now();
const deadline = started + seconds * 1000;
let hashes = 0;
await Promise.all(
  Array.from({ length: concurrency }, async (_, worker) => {
    while (performance.now() < deadline) {
      await hashPassword(`bench-password-${worker}-${hashes}`);
      hashes++;
    }
  }),
);
const elapsed = (performance.now() - started) / 1000;
console.log(JSON.stringify({ hashesPerSec: hashes / elapsed, hashes, seconds: elapsed, concurrency }));
