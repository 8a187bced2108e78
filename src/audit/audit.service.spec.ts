import { describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { SqlParams } from '#src/common/sql.js';
import { AuditService } from './audit.service.js';

describe('AuditService.insertFrom', () => {
  it("numbers the record's parameters after those the change already added, each bound to its own value", () => {
    const audit = new AuditService(undefined as unknown as DataSource);
    const p = new SqlParams();
    const change = `UPDATE things SET n = ${p.add(5)} WHERE id = ${p.add('id-1')} RETURNING id`;
    const record = audit.insertFrom(p, 'change', {
      actorType: 'system',
      action: 'thing.change',
      status: 'success',
      ip: '10.0.0.1',
      details: { k: 1 },
    });
    const bound = (sql: string): string =>
      sql.replace(/\$(\d+)/g, (_, n: string) => JSON.stringify(p.values[Number(n) - 1]));
    expect(bound(change)).toBe('UPDATE things SET n = 5 WHERE id = "id-1" RETURNING id');
    expect(bound(record).replace(/\s+/g, ' ')).toContain(
      'SELECT "system", null, "thing.change", null, null, "success", "10.0.0.1", null, null, "{\\"k\\":1}"::jsonb FROM change',
    );
  });
});
