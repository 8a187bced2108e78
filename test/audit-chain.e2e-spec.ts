import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditChainService } from '../src/audit/audit-chain.service.js';
import { AuditLog } from '../src/audit/audit-log.entity.js';
import { AuditService } from '../src/audit/audit.service.js';
import { bootApp, TestApp } from './support/test-app.js';

describe('audit trail hash chain', () => {
  let t: TestApp;
  let audit: AuditService;
  let chain: AuditChainService;

  beforeAll(async () => {
    t = await bootApp();
    audit = t.app.get(AuditService);
    chain = t.app.get(AuditChainService);
  });
  afterAll(() => t.close());

  const write = (action: string, details: Record<string, unknown> = {}): Promise<void> =>
    audit.record({ actorType: 'system', action, resource: 'test', status: 'success', details });

  it('records inside the caller transaction: a rolled-back change leaves no record', async () => {
    await expect(
      t.dataSource.transaction(async (manager) => {
        await audit.record({ actorType: 'system', action: 'test.rolled_back', status: 'success' }, manager);
        throw new Error('abort the change');
      }),
    ).rejects.toThrow('abort the change');
    await audit.record({ actorType: 'system', action: 'test.committed', status: 'success' }, t.dataSource.manager);
    const actions = (await t.dataSource.getRepository(AuditLog).find()).map((row) => row.action);
    expect(actions).toContain('test.committed');
    expect(actions).not.toContain('test.rolled_back');
  });

  it('seals concurrent writers into one gap-free chain that verifies', async () => {
    await Promise.all(Array.from({ length: 60 }, (_, i) => write('test.concurrent', { i, nested: { b: 1, a: 2 } })));
    // Two sealers at once (as two instances would run them) must not fork the chain.
    await Promise.all([chain.sealPending(), chain.sealPending()]);
    const rows = await t.dataSource.query('SELECT seq FROM audit_logs WHERE seq IS NOT NULL ORDER BY seq');
    expect(rows.map((r: { seq: string }) => Number(r.seq))).toEqual(rows.map((_: unknown, i: number) => i + 1));
    const result = await chain.verify();
    expect(result).toEqual({ ok: true, checked: rows.length, firstBrokenId: null, unsealed: 0, anchorSeq: null });
  });

  it('detects an edited row and names it', async () => {
    await write('test.victim', { amount: 1 });
    await chain.sealPending();
    const [victim] = await t.dataSource.query(`SELECT id FROM audit_logs WHERE action = 'test.victim'`);
    await t.dataSource.query(`UPDATE audit_logs SET details = '{"amount": 2}' WHERE id = $1`, [victim.id]);
    expect(await chain.verify()).toMatchObject({ ok: false, firstBrokenId: victim.id });
    await t.dataSource.query(`UPDATE audit_logs SET details = '{"amount": 1}' WHERE id = $1`, [victim.id]);
    expect((await chain.verify()).ok).toBe(true);
  });

  it('detects a deleted row at the row that followed it', async () => {
    await write('test.doomed');
    await write('test.after_doomed');
    await chain.sealPending();
    const [doomed] = await t.dataSource.query(`SELECT id FROM audit_logs WHERE action = 'test.doomed'`);
    const [after] = await t.dataSource.query(`SELECT id FROM audit_logs WHERE action = 'test.after_doomed'`);
    await t.dataSource.query('DELETE FROM audit_logs WHERE id = $1', [doomed.id]);
    expect(await chain.verify()).toMatchObject({ ok: false, firstBrokenId: after.id });
  });
});
