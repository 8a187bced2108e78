import { Inject, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { UsageKeysModule } from '#src/keys/usage-keys.module.js';
import { UsageKeysService } from '#src/keys/usage-keys.service.js';
import { OtpConfigsModule } from '#src/otp-configs/otp-configs.module.js';
import { OtpConfigsService } from '#src/otp-configs/otp-configs.service.js';
import { UsersModule } from '#src/users/users.module.js';
import { UsersService } from '#src/users/users.service.js';
import { CryptoModule } from './crypto.module.js';
import { KeyRingMismatchError, unreadableColumns } from './key-ring-check.js';
import { SecretCipher } from './secret-cipher.js';

/**
 * At start (after migrations, before anything is served or created) a few stored ciphertexts
 * of each secret column are tried against the key ring; each module that keeps secrets samples
 * its own. When a column has rows and none of them decrypts, the ring is the wrong one (lost
 * development secrets, another ENCRYPTION_KEYS): the service refuses to start instead of
 * answering errors for every secret. A single unreadable row is answered at request time
 * (409 SECRET_UNREADABLE).
 */
@Injectable()
export class StoredSecretsCheck implements OnModuleInit {
  constructor(
    private readonly cipher: SecretCipher,
    private readonly users: UsersService,
    private readonly usageKeys: UsageKeysService,
    private readonly otpConfigs: OtpConfigsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const samples = (
      await Promise.all([this.users.secretSamples(), this.usageKeys.secretSamples(), this.otpConfigs.secretSamples()])
    ).flat();
    const unreadable = unreadableColumns(this.cipher, samples);
    if (unreadable.length > 0) {
      throw new KeyRingMismatchError(unreadable, this.config.dataDir, this.config.nodeEnv !== 'production');
    }
  }
}

/** The start-up key ring check, for the service and the command line. */
@Module({
  imports: [CryptoModule, UsersModule, UsageKeysModule, OtpConfigsModule],
  providers: [StoredSecretsCheck],
})
export class StoredSecretsCheckModule {}
