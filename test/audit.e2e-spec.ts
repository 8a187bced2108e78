import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditChainService } from '../src/audit/audit-chain.service.js';
import { AuditRetentionService } from '../src/audit/audit-retention.service.js';
import { FakeClock } from './support/fake-clock.js';
import { createUser, login, TestUser } from './support/identity.js';
import { scratchDatabase, ScratchDatabase } from './support/scratch-database.js';
import { bootApp, TestApp } from './support/test-app.js';

interface Row {
  id: string;
  created_at: Date;
  actor_type: string;
  actor_id: string | null;
  action: string;
  resource: string | null;
  resource_id: string | null;
  status: string;
  ip: string | null;
}
type Filters = Partial<
  Record<'action' | 'actor_type' | 'actor_id' | 'resource' | 'resource_id' | 'status' | 'ip' | 'from' | 'to', string>
>;

const NOW = new Date('2026-02-01T05:30:00Z');
const SEEDED = 48;
const ACTIONS = ['user.update', 'api_key.create', 'otp.validate'];
const ACTORS = ['user', 'api_key', 'system', 'anonymous'];

/** Seeded row i: every column cycles with its own period, so filters cut the set differently. */
function seedValues(i: number): unknown[] {
  const actorType = ACTORS[i % 4];
  return [
    new Date(Date.parse('2026-02-01T05:20:00Z') - i * 11 * 60_000),
    actorType,
    actorType === 'system' ? null : `actor-${i % 5}`,
    ACTIONS[i % 3],
    i % 2 ? 'api_key' : 'user',
    `res-${i % 6}`,
    i % 7 === 0 ? 'failure' : 'success',
    `10.0.${i % 5}.1`,
    i === 5 ? '=HYPERLINK("http://evil","click"), really' : 'agent/1.0',
    { n: i },
  ];
}

/** Minimal RFC 4180 reader (quoted cells, doubled quotes, CRLF rows). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return rows;
}

describe('audit trail API: query, timeline, verify, export, retention', () => {
  const clock = new FakeClock(NOW);
  let db: ScratchDatabase;
  let t: TestApp;
  let admin: TestUser;
  let user: TestUser;

  beforeAll(async () => {
    db = await scratchDatabase();
    t = await bootApp({ DATABASE_URL: db.url, AUDIT_RETENTION_DAYS: '30' }, { clock });
    admin = await createUser(t, { role: 'admin' });
    user = await createUser(t);
    for (let i = 0; i < SEEDED; i++) {
      await t.dataSource.query(
        `INSERT INTO audit_logs (created_at, actor_type, actor_id, action, resource, resource_id, status, ip, user_agent, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        seedValues(i),
      );
    }
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const get = (path: string, who: TestUser = admin) => t.http().get(`/api/v1/audit/${path}`).set(who.auth);
  /** Every row, in the order the API promises (newest first, then highest id). */
  const allRows = (): Promise<Row[]> =>
    t.dataSource.query(
      `SELECT id::text, created_at, actor_type, actor_id, action, resource, resource_id, status, ip
         FROM audit_logs ORDER BY created_at DESC, id DESC`,
    );
  const matches = (row: Row, f: Filters): boolean =>
    (f.action === undefined || row.action === f.action) &&
    (f.actor_type === undefined || row.actor_type === f.actor_type) &&
    (f.actor_id === undefined || row.actor_id === f.actor_id) &&
    (f.resource === undefined || row.resource === f.resource) &&
    (f.resource_id === undefined || row.resource_id === f.resource_id) &&
    (f.status === undefined || row.status === f.status) &&
    (f.ip === undefined || row.ip === f.ip) &&
    (f.from === undefined || row.created_at.getTime() >= Date.parse(f.from)) &&
    (f.to === undefined || row.created_at.getTime() < Date.parse(f.to));

  it('refuses everyone but administrators (401 without credentials, 403 for a user)', async () => {
    for (const path of ['logs', 'timeline', 'verify', 'export']) {
      expect((await t.http().get(`/api/v1/audit/${path}`)).status).toBe(401);
      const refused = await get(path, user);
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('INSUFFICIENT_ROLE');
    }
  });

  it.each<[string, Filters]>([
    ['action', { action: 'user.update' }],
    ['actor_type', { actor_type: 'api_key' }],
    ['actor_id', { actor_id: 'actor-3' }],
    ['resource', { resource: 'api_key' }],
    ['resource_id', { resource_id: 'res-2' }],
    ['status', { status: 'failure' }],
    ['ip', { ip: '10.0.2.1' }],
    ['from', { from: '2026-02-01T02:00:00Z' }],
    ['to', { to: '2026-02-01T01:00:00Z' }],
    ['action + status', { action: 'otp.validate', status: 'failure' }],
    ['actor_type + actor_id', { actor_type: 'user', actor_id: 'actor-4' }],
    [
      'resource + resource_id + from + to',
      { resource: 'user', resource_id: 'res-4', from: '2026-01-31T22:00:00Z', to: '2026-02-01T04:00:00Z' },
    ],
    ['ip + status + from', { ip: '10.0.0.1', status: 'success', from: '2026-02-01T00:00:00Z' }],
    [
      'six at once',
      {
        action: 'user.update',
        actor_type: 'user',
        status: 'success',
        resource: 'user',
        from: '2026-01-31T20:00:00Z',
        to: '2026-02-01T06:00:00Z',
      },
    ],
    ['nothing matches', { action: 'user.update', actor_type: 'api_key', resource: 'api_key' }],
  ])('filter %s returns exactly the matching rows, newest first', async (_, filters) => {
    const expected = (await allRows()).filter((row) => matches(row, filters)).map((row) => row.id);
    const res = await get(`logs?${new URLSearchParams({ ...filters, limit: '100' })}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.total).toBe(expected.length);
    expect(res.body.items.map((item: { id: string }) => item.id)).toEqual(expected);
    for (const item of res.body.items) {
      expect(matches({ ...item, created_at: new Date(item.created_at) }, filters)).toBe(true);
    }
  });

  it('pages with limit and offset, and caps a page at 100', async () => {
    const expected = (await allRows()).filter((row) => row.resource === 'api_key').map((row) => row.id);
    const page = await get('logs?resource=api_key&limit=5&offset=5');
    expect(page.body).toMatchObject({ total: expected.length, limit: 5, offset: 5 });
    expect(page.body.items.map((item: { id: string }) => item.id)).toEqual(expected.slice(5, 10));
    const first = page.body.items[0];
    expect(first).toEqual({
      id: expect.any(String),
      created_at: expect.stringMatching(/Z$/),
      actor_type: expect.any(String),
      actor_id: expect.anything(),
      action: expect.any(String),
      resource: 'api_key',
      resource_id: expect.stringMatching(/^res-/),
      status: expect.stringMatching(/^(success|failure)$/),
      ip: expect.stringMatching(/^10\.0\./),
      user_agent: expect.any(String),
      request_id: null,
      details: { n: expect.any(Number) },
      seq: null,
      prev_hash: null,
      hash: null,
    });
    expect((await get('logs?limit=101')).status).toBe(400);
    expect((await get('logs?status=maybe')).status).toBe(400);
    expect((await get('logs?from=yesterday')).status).toBe(400);
    expect((await get('logs?password=x')).status).toBe(400);
  });

  it('counts per hour by action and status over the last N hours', async () => {
    const res = await get('timeline?hours=3');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ hours: 3, from: '2026-02-01T03:00:00.000Z', to: NOW.toISOString() });
    expect(res.body.buckets.map((b: { hour: string }) => b.hour)).toEqual([
      '2026-02-01T03:00:00.000Z',
      '2026-02-01T04:00:00.000Z',
      '2026-02-01T05:00:00.000Z',
    ]);
    const rows = (await allRows()).filter(
      (row) => row.created_at >= new Date('2026-02-01T03:00:00Z') && row.created_at <= NOW,
    );
    for (const bucket of res.body.buckets) {
      const start = Date.parse(bucket.hour);
      const inHour = rows.filter(
        (row) => row.created_at.getTime() >= start && row.created_at.getTime() < start + 3_600_000,
      );
      expect(bucket.total).toBe(inHour.length);
      const expected = new Map<string, number>();
      for (const row of inHour) {
        expected.set(`${row.action}/${row.status}`, (expected.get(`${row.action}/${row.status}`) ?? 0) + 1);
      }
      expect(
        Object.fromEntries(
          bucket.counts.map((c: { action: string; status: string; count: number }) => [
            `${c.action}/${c.status}`,
            c.count,
          ]),
        ),
      ).toEqual(Object.fromEntries(expected));
    }
    const month = await get('timeline?hours=720');
    expect(month.body.buckets).toHaveLength(720);
    // Every seeded row lies within the last 30 days of the clock; the app's own rows are later.
    expect(month.body.buckets.reduce((sum: number, b: { total: number }) => sum + b.total, 0)).toBe(SEEDED);
    expect((await get('timeline?hours=0')).status).toBe(400);
    expect((await get('timeline?hours=721')).status).toBe(400);
  });

  it('exports the filtered records as CSV with escaped, formula-safe cells', async () => {
    const filters = { actor_type: 'api_key', resource: 'api_key' };
    const listed = await get(`logs?${new URLSearchParams({ ...filters, limit: '100' })}`);
    const res = await get(`export?${new URLSearchParams({ ...filters, format: 'csv' })}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toBe('attachment; filename="audit-logs.csv"');
    const [header, ...rows] = parseCsv(res.text);
    expect(header.slice(0, 5)).toEqual(['id', 'created_at', 'actor_type', 'actor_id', 'action']);
    expect(rows.map((row) => row[0])).toEqual(listed.body.items.map((item: { id: string }) => item.id));
    const agent = header.indexOf('user_agent');
    const evil = rows.find((row) => row[agent].includes('HYPERLINK'));
    expect(evil?.[agent]).toBe(`'=HYPERLINK("http://evil","click"), really`);
    expect(JSON.parse(rows[0][header.indexOf('details')])).toEqual(listed.body.items[0].details);
  });

  it('exports NDJSON (the default): one record per line, the same records as the list', async () => {
    const filters = { action: 'otp.validate', from: '2026-02-01T00:00:00Z' };
    const listed = await get(`logs?${new URLSearchParams({ ...filters, limit: '100' })}`);
    const res = await get(`export?${new URLSearchParams(filters)}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const lines = res.text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toEqual(listed.body.items);
    expect((await get('export?format=xml')).status).toBe(400);
    const recorded = await get(`logs?action=audit.export&actor_id=${admin.id}`);
    expect(recorded.body.total).toBeGreaterThanOrEqual(2);
    expect(recorded.body.items[0].details.format).toBe('ndjson');
  });

  it('verifies the chain and names the row an SQL edit changed', async () => {
    await t.app.get(AuditChainService).sealPending();
    const [{ sealed }] = await t.dataSource.query(
      `SELECT count(*)::int AS sealed FROM audit_logs WHERE seq IS NOT NULL`,
    );
    const ok = await get('verify');
    expect(ok.body).toEqual({ ok: true, checked: sealed, first_broken_id: null, unsealed: 0, anchor_seq: null });

    const [victim] = await t.dataSource.query(`SELECT id::text FROM audit_logs WHERE details = '{"n": 20}'`);
    await t.dataSource.query(`UPDATE audit_logs SET ip = '10.9.9.9' WHERE id = $1`, [victim.id]);
    expect((await get('verify')).body).toMatchObject({ ok: false, first_broken_id: victim.id });
    await t.dataSource.query(`UPDATE audit_logs SET ip = '10.0.0.1' WHERE id = $1`, [victim.id]);
    expect((await get('verify')).body.ok).toBe(true);
  });

  it('prunes records past AUDIT_RETENTION_DAYS, anchors the kept chain, and still detects tampering', async () => {
    const retention = t.app.get(AuditRetentionService);
    const chain = t.app.get(AuditChainService);
    // 30 days after every existing record: the whole sealed chain is due.
    clock.set('2027-06-01T00:00:00Z');
    const [{ sealed }] = await t.dataSource.query(
      `SELECT count(*)::int AS sealed FROM audit_logs WHERE seq IS NOT NULL`,
    );
    const first = await retention.prune();
    expect(first?.pruned).toBe(sealed);
    admin = { ...admin, ...(await login(t, admin.username, admin.password)) };
    expect((await get('verify')).body).toMatchObject({ ok: true, checked: 0, anchor_seq: String(sealed) });

    // The chain goes on from the anchor: old rows, then rows within the retention period.
    const insert = (createdAt: string, n: number) =>
      t.dataSource.query(
        `INSERT INTO audit_logs (created_at, actor_type, action, status, details) VALUES ($1, 'system', 'test.kept', 'success', $2)`,
        [createdAt, { n }],
      );
    for (let n = 0; n < 4; n++) await insert('2027-01-01T00:00:00Z', n);
    for (let n = 4; n < 10; n++) await insert('2027-05-20T00:00:00Z', n);
    await chain.sealPending();
    const before = await get('verify');
    expect(before.body.ok).toBe(true);

    const second = await retention.prune();
    const [{ kept }] = await t.dataSource.query(`SELECT count(*)::int AS kept FROM audit_logs WHERE seq IS NOT NULL`);
    expect(before.body.checked - (second?.pruned ?? 0)).toBe(kept);
    const oldest = await t.dataSource.query(`SELECT min(created_at) AS at FROM audit_logs WHERE seq IS NOT NULL`);
    expect(new Date(oldest[0].at).getTime()).toBeGreaterThanOrEqual(Date.parse('2027-05-02T00:00:00Z'));
    const anchors = await t.dataSource.query(
      `SELECT pruned_through_seq::text AS seq FROM audit_anchors ORDER BY pruned_through_seq`,
    );
    expect(anchors).toHaveLength(2);
    expect(second?.anchorSeq).toBe(anchors[1].seq);

    await chain.sealPending(); // the audit.prune record joins the chain after the kept rows
    const after = await get('verify');
    expect(after.body).toEqual({
      ok: true,
      checked: kept + 1,
      first_broken_id: null,
      unsealed: 0,
      anchor_seq: anchors[1].seq,
    });
    const pruneRecords = await get('logs?action=audit.prune');
    // The first run's record was itself old enough for the second run.
    expect(pruneRecords.body.total).toBe(1);
    expect(pruneRecords.body.items[0].details).toMatchObject({ pruned: second?.pruned, days: 30 });

    const [victim] = await t.dataSource.query(`SELECT id::text FROM audit_logs WHERE details = '{"n": 7}'`);
    await t.dataSource.query(`UPDATE audit_logs SET action = 'test.forged' WHERE id = $1`, [victim.id]);
    expect((await get('verify')).body).toMatchObject({ ok: false, first_broken_id: victim.id });
    // Removing the first kept row is caught as well: the next row no longer follows the anchor.
    await t.dataSource.query(`UPDATE audit_logs SET action = 'test.kept' WHERE id = $1`, [victim.id]);
    const [head, next] = await t.dataSource.query(
      `SELECT id::text FROM audit_logs WHERE seq IS NOT NULL ORDER BY seq LIMIT 2`,
    );
    await t.dataSource.query(`DELETE FROM audit_logs WHERE id = $1`, [head.id]);
    expect((await get('verify')).body).toMatchObject({ ok: false, first_broken_id: next.id });
  });
});
