import type { DataSource } from 'typeorm';
import type { AuditService } from '#src/audit/audit.service.js';
import type { SecretCipher } from './secret-cipher.js';

const BATCH = 500;

/** What re-encrypting one column did. */
export interface RotationReport {
  table: string;
  column: string;
  rotated: number;
  current: number;
  failed: number;
}

/** A column of SecretCipher tokens, named by the module that owns its table. */
export interface EncryptedColumn {
  table: string;
  column: string;
}

/**
 * Re-encrypts one column's tokens under the cipher's active key, in batches of rows by id.
 * Each batch commits with its audit record; a row changed meanwhile (compare-and-set on the
 * old token) is left for the next run; a token no key opens is counted as failed and never
 * overwritten. A table that does not exist yet is passed over (null). The owning module calls
 * this for its own table (UsersService, UsageKeysService, OtpConfigsService).
 */
export async function reencryptColumn(
  dataSource: DataSource,
  audit: AuditService,
  cipher: SecretCipher,
  { table, column }: EncryptedColumn,
): Promise<RotationReport | null> {
  const [{ present }] = await dataSource.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [table]);
  if (!present) return null;
  const report: RotationReport = { table, column, rotated: 0, current: 0, failed: 0 };
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows: Array<{ id: string; token: string }> = await dataSource.query(
      `SELECT id, "${column}" AS token FROM "${table}" WHERE "${column}" IS NOT NULL AND id > $1 ORDER BY id LIMIT $2`,
      [after, BATCH],
    );
    if (rows.length === 0) return report;
    after = rows[rows.length - 1].id;
    const changes: Array<{ id: string; from: string; to: string }> = [];
    for (const row of rows) {
      if (cipher.isEncryptedWithActiveKey(row.token)) {
        report.current += 1;
        continue;
      }
      try {
        changes.push({ id: row.id, from: row.token, to: cipher.reencrypt(row.token) });
      } catch {
        report.failed += 1; // unknown key id or tampered token: reported, never overwritten
      }
    }
    if (changes.length === 0) continue;
    await dataSource.transaction(async (manager) => {
      const [, updated] = await manager.query(
        `UPDATE "${table}" AS t SET "${column}" = c.next
           FROM unnest($1::uuid[], $2::text[], $3::text[]) AS c(id, prev, next)
          WHERE t.id = c.id AND t."${column}" = c.prev`,
        [changes.map((c) => c.id), changes.map((c) => c.from), changes.map((c) => c.to)],
      );
      report.rotated += Number(updated);
      await audit.record(
        {
          actorType: 'system',
          action: 'secrets.rotate',
          resource: table,
          status: 'success',
          details: { column, rotated: Number(updated), key_id: cipher.activeKeyId },
        },
        manager,
      );
    });
  }
}
