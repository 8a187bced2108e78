import { Global, Module } from '@nestjs/common';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { SecretCipher } from './secret-cipher.js';
import { StoredSecretsCheck } from './stored-secrets-check.js';

/**
 * Global: any module that keeps secrets encrypts them with the configured key ring, which is
 * checked at start against what the database holds.
 */
@Global()
@Module({
  providers: [
    {
      provide: SecretCipher,
      useFactory: (config: AppConfig) => new SecretCipher(config.encryption.keys, config.encryption.activeKeyId),
      inject: [APP_CONFIG],
    },
    StoredSecretsCheck,
  ],
  exports: [SecretCipher],
})
export class CryptoModule {}
