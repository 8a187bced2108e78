import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { scratchDatabase, ScratchDatabase } from './support/scratch-database.js';
import { ServiceProcess, startService } from './support/service-process.js';
import { testEnv } from './support/test-app.js';

const ROWS = 100_000;
/**
 * The stated bound: while the server streams 100,000 records (about 41 MiB of NDJSON), its
 * peak resident set may rise at most 24 MiB above its resident set before the export.
 * The server runs with its V8 old space capped at 128 MiB: without a cap V8 may postpone
 * full collections while it has room, and RSS would measure that laziness rather than the
 * export. An export that held the rows or the body would not fit in the cap.
 */
const PEAK_GROWTH_BOUND = 24 * 1024 * 1024;
const SERVER_NODE_OPTIONS = '--max-old-space-size=128';

/** Resident set now and its peak so far (Linux /proc), in bytes. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

describe('audit export memory (real service process)', () => {
  let db: ScratchDatabase;
  let service: ServiceProcess;
  let auth: string;

  beforeAll(async () => {
    db = await scratchDatabase();
    const env = Object.fromEntries(
      Object.entries(testEnv({ DATABASE_URL: db.url, LOG_LEVEL: 'warn' })).filter(([, v]) => v !== undefined),
    ) as Record<string, string>;
    service = await startService({ ...env, LOG_LEVEL: 'info', NODE_OPTIONS: SERVER_NODE_OPTIONS });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO audit_logs (created_at, actor_type, actor_id, action, resource, resource_id, status, ip, user_agent, details)
         SELECT now() - make_interval(secs => i), 'user', 'actor-' || (i % 100), 'bulk.row', 'thing', 'thing-' || i,
                CASE WHEN i % 10 = 0 THEN 'failure' ELSE 'success' END, '10.1.' || (i % 250) || '.1',
                'Mozilla/5.0 (X11; Linux x86_64) bulk-export-test', jsonb_build_object('i', i, 'note', repeat('x', 80))
           FROM generate_series(1, ${ROWS}) AS i`,
      );
    } finally {
      await client.end();
    }
    const res = await fetch(`${service.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: env.ADMIN_PASSWORD }),
    });
    expect(res.status).toBe(200);
    auth = `Bearer ${((await res.json()) as { access_token: string }).access_token}`;
  }, 300_000); // a scratch database, a service start and 100,000 rows, each with its own deadline
  afterAll(async () => {
    await service?.stop();
    await db?.drop();
  });

  /** Streams an export, counting lines and bytes without keeping the body. */
  async function exportAll(query: string): Promise<{ lines: number; bytes: number; first: string }> {
    const res = await fetch(`${service.url}/api/v1/audit/export?${query}`, { headers: { authorization: auth } });
    expect(res.status).toBe(200);
    let lines = 0;
    let bytes = 0;
    let first = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body!) {
      bytes += chunk.byteLength;
      const text = decoder.decode(chunk, { stream: true });
      if (first.length < 2000) first += text.slice(0, 2000);
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
    }
    return { lines, bytes, first };
  }

  it(`streams ${ROWS.toLocaleString('en')} records with the server's peak RSS growing less than 24 MiB`, async () => {
    // Warm the route up (code paths, pool connections) before taking the baseline.
    expect((await exportAll('action=bulk.row&actor_id=actor-1&status=failure')).lines).toBe(0);
    expect((await exportAll('action=bulk.row&actor_id=actor-7')).lines).toBe(ROWS / 100);
    const before = memoryOf(service.child.pid!);

    const { lines, bytes, first } = await exportAll('action=bulk.row&format=ndjson');
    const after = memoryOf(service.child.pid!);

    expect(lines).toBe(ROWS);
    expect(JSON.parse(first.slice(0, first.indexOf('\n')))).toMatchObject({ action: 'bulk.row', details: { i: 1 } });
    const growth = after.peak - before.rss;
    const measured =
      `export of ${lines} rows, ${(bytes / 2 ** 20).toFixed(1)} MiB: server RSS before ${(before.rss / 2 ** 20).toFixed(1)} MiB, ` +
      `peak after ${(after.peak / 2 ** 20).toFixed(1)} MiB`;
    expect(bytes).toBeGreaterThan(PEAK_GROWTH_BOUND);
    expect(growth, measured).toBeLessThan(PEAK_GROWTH_BOUND);
  });
});
