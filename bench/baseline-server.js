// Baseline for bench/run.js: a bare Fastify "hello world", started as its own
// process so it is measured exactly like the app (same machine, same run).
//   PORT=3001 node bench/baseline-server.js
import Fastify from 'fastify';

const port = Number(process.env.PORT ?? 3001);
const host = process.env.HOST ?? '127.0.0.1';

const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

try {
  await app.listen({ port, host });
} catch (err) {
  console.error(err);
  process.exit(1);
}
