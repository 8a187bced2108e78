import { Global, Module } from '@nestjs/common';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { SecretCipher } from './secret-cipher.js';

/** Global: any module that keeps secrets encrypts them with the configured key ring. */
@Global()
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
