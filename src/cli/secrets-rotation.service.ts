import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '#src/audit/audit.service.js';
import { ENCRYPTED_COLUMNS } from '#src/crypto/encrypted-columns.js';
import { SecretCipher } from '#src/crypto/secret-cipher.js';

const BATCH = 500;

export interface RotationReport {
  table: string;
  column: string;
  rotated: number;
  current: number;
  failed: number;
}

/**
 * Re-encrypts every stored secret under the active key of ENCRYPTION_KEYS, in batches, so
 * an old key can be dropped from the ring afterwards. Each batch commits with its audit
 * record; a row changed meanwhile (compare-and-set on the old token) is left for the next run.
 */
@Injectable()
export class SecretsRotationService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cipher: SecretCipher,
    private readonly audit: AuditService,
  ) {}

  async rotateAll(): Promise<RotationReport[]> {
    const reports: RotationReport[] = [];
    for (const { table, column } of ENCRYPTED_COLUMNS) {
      const [{ present }] = await this.dataSource.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [table]);
      if (present) reports.push(await this.rotate(table, column));
    }
    return reports;
  }

  private async rotate(table: string, column: string): Promise<RotationReport> {
    const report: RotationReport = { table, column, rotated: 0, current: 0, failed: 0 };
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const rows: Array<{ id: string; token: string }> = await this.dataSource.query(
        `SELECT id, "${column}" AS token FROM "${table}" WHERE "${column}" IS NOT NULL AND id > $1 ORDER BY id LIMIT $2`,
        [after, BATCH],
      );
      if (rows.length === 0) return report;
      after = rows[rows.length - 1].id;
      const changes: Array<{ id: string; from: string; to: string }> = [];
      for (const row of rows) {
        if (this.cipher.isEncryptedWithActiveKey(row.token)) {
          report.current += 1;
          continue;
        }
        try {
          changes.push({ id: row.id, from: row.token, to: this.cipher.reencrypt(row.token) });
        } catch {
          report.failed += 1; // unknown key id or tampered token: reported, never overwritten
        }
      }
      if (changes.length === 0) continue;
      await this.dataSource.transaction(async (manager) => {
        const [, updated] = await manager.query(
          `UPDATE "${table}" AS t SET "${column}" = c.next
             FROM unnest($1::uuid[], $2::text[], $3::text[]) AS c(id, prev, next)
            WHERE t.id = c.id AND t."${column}" = c.prev`,
          [changes.map((c) => c.id), changes.map((c) => c.from), changes.map((c) => c.to)],
        );
        report.rotated += Number(updated);
        await this.audit.record(
          {
            actorType: 'system',
            action: 'secrets.rotate',
            resource: table,
            status: 'success',
            details: { column, rotated: Number(updated), key_id: this.cipher.activeKeyId },
          },
          manager,
        );
      });
    }
  }
}
