import { Injectable } from '@nestjs/common';
import type { RotationReport } from '#src/crypto/secret-reencryption.js';
import { SecretCipher } from '#src/crypto/secret-cipher.js';
import { UsageKeysService } from '#src/keys/usage-keys.service.js';
import { OtpConfigsService } from '#src/otp-configs/otp-configs.service.js';
import { UsersService } from '#src/users/users.service.js';

export type { RotationReport } from '#src/crypto/secret-reencryption.js';

/**
 * Re-encrypts every stored secret under the active key of ENCRYPTION_KEYS, so an old key can
 * be dropped from the ring afterwards: each module that keeps secrets re-encrypts its own
 * (MFA secrets, usage-limited keys, OTP configurations), batch by batch with audit records.
 */
@Injectable()
export class SecretsRotationService {
  constructor(
    private readonly cipher: SecretCipher,
    private readonly users: UsersService,
    private readonly usageKeys: UsageKeysService,
    private readonly otpConfigs: OtpConfigsService,
  ) {}

  async rotateAll(): Promise<RotationReport[]> {
    const reports: RotationReport[] = [];
    for (const owner of [this.users, this.usageKeys, this.otpConfigs]) {
      reports.push(...(await owner.reencryptSecrets(this.cipher)));
    }
    return reports;
  }
}
