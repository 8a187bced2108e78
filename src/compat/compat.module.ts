import { DynamicModule, Module, Type } from '@nestjs/common';
import type { CompatSwitches } from '#src/config/config.types.js';
import { DeviceOtpCompatModule } from './device-otp/device-otp-compat.module.js';
import { MfaManagerCompatModule } from './mfa-manager/mfa-manager-compat.module.js';
import { OtpMicroserviceCompatModule } from './otp-microservice/otp-microservice-compat.module.js';
import { TotpAuthCompatModule } from './totp-auth/totp-auth-compat.module.js';
import { UsageKeysCompatModule } from './usage-keys/usage-keys-compat.module.js';

/**
 * The replaced systems' routes, each under `/compat/<system>` and each off unless its
 * COMPAT_<NAME> switch is on: their clients change only the base URL and the credential.
 */
@Module({})
export class CompatModule {
  static forRoot(switches: CompatSwitches): DynamicModule {
    const systems: Array<[boolean, Type]> = [
      [switches.usageKeys, UsageKeysCompatModule],
      [switches.mfaManager, MfaManagerCompatModule],
      [switches.deviceOtp, DeviceOtpCompatModule],
      [switches.totpAuth, TotpAuthCompatModule],
      [switches.otpMicroservice, OtpMicroserviceCompatModule],
    ];
    return { module: CompatModule, imports: systems.filter(([on]) => on).map(([, module]) => module) };
  }
}
