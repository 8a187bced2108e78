import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { ENCRYPTED_COLUMNS } from './encrypted-columns.js';
import { ColumnSample, KeyRingMismatchError, unreadableColumns } from './key-ring-check.js';
import { SecretCipher } from './secret-cipher.js';

/** Tokens tried per column: one that decrypts is enough, so a few damaged rows do not stop the service. */
const SAMPLE_SIZE = 10;

/**
 * At start (after migrations, before anything is served or created) a few stored ciphertexts
 * of each secret column are tried against the key ring. When a column has rows and none of
 * them decrypts, the ring is the wrong one (lost development secrets, another ENCRYPTION_KEYS):
 * the service refuses to start instead of answering errors for every secret. A single
 * unreadable row is answered at request time (409 SECRET_UNREADABLE).
 */
@Injectable()
export class StoredSecretsCheck implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cipher: SecretCipher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const samples: ColumnSample[] = [];
    for (const { table, column } of ENCRYPTED_COLUMNS) {
      const [{ present }] = await this.dataSource.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [table]);
      if (!present) continue;
      const rows: Array<{ token: string }> = await this.dataSource.query(
        `SELECT "${column}" AS token FROM "${table}" WHERE "${column}" IS NOT NULL LIMIT ${SAMPLE_SIZE}`,
      );
      samples.push({ table, column, tokens: rows.map((row) => row.token) });
    }
    const unreadable = unreadableColumns(this.cipher, samples);
    if (unreadable.length > 0) {
      throw new KeyRingMismatchError(unreadable, this.config.dataDir, this.config.nodeEnv !== 'production');
    }
  }
}
