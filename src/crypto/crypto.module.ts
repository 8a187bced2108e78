import { Module } from '@nestjs/common';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { SecretCipher } from './secret-cipher.js';

/** The configured key ring; a module that keeps secrets encrypted imports this. */
@Module({
  providers: [
    {
      provide: SecretCipher,
      useFactory: (config: AppConfig) => new SecretCipher(config.encryption.keys, config.encryption.activeKeyId),
      inject: [APP_CONFIG],
    },
  ],
  exports: [SecretCipher],
})
export class CryptoModule {}
