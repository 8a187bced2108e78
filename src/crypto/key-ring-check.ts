import { join } from 'node:path';
import { ConfigError } from '#src/config/config.types.js';
import { SecretCipher } from './secret-cipher.js';

/** Stored ciphertexts of one column, sampled at start. */
export interface ColumnSample {
  table: string;
  column: string;
  tokens: readonly string[];
}

/** `table.column` of each sampled column with rows of which no token decrypts under the ring. */
export function unreadableColumns(cipher: SecretCipher, samples: readonly ColumnSample[]): string[] {
  return samples
    .filter(({ tokens }) => tokens.length > 0 && !tokens.some((token) => opens(cipher, token)))
    .map(({ table, column }) => `${table}.${column}`);
}

function opens(cipher: SecretCipher, token: string): boolean {
  try {
    cipher.decrypt(token);
    return true;
  } catch {
    return false;
  }
}

/** The key ring cannot read what the database holds: starting would answer errors for every secret. */
export class KeyRingMismatchError extends ConfigError {
  constructor(columns: readonly string[], dataDir: string, developmentSecrets: boolean) {
    super(
      'ENCRYPTION_KEYS',
      `no key in the ring decrypts the secrets stored in ${columns.join(', ')}: they were written with other keys. ` +
        'Set ENCRYPTION_KEYS (and ENCRYPTION_ACTIVE_KEY_ID) to the key ring they were written with' +
        (developmentSecrets
          ? `; when it is unset, the generated development values in ${join(dataDir, 'secrets.json')} ` +
            `(DATA_DIR=${dataDir}) are used: restore that file if it was lost, or point DATA_DIR at the directory the data came from`
          : '') +
        '.',
    );
    this.name = 'KeyRingMismatchError';
  }
}
