import { DynamicModule, Global, Module } from '@nestjs/common';
import { ApiKeysModule } from '#src/api-keys/api-keys.module.js';
import { AuditModule } from '#src/audit/audit.module.js';
import { Clock, SystemClock } from '#src/common/clock.js';
import { ConfigModule } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { CryptoModule } from '#src/crypto/crypto.module.js';
import { StoredSecretsCheckModule } from '#src/crypto/stored-secrets-check.js';
import { DatabaseModule } from '#src/database/database.module.js';
import { DevicesModule } from '#src/devices/devices.module.js';
import { UsageKeysModule } from '#src/keys/usage-keys.module.js';
import { OtpConfigsModule } from '#src/otp-configs/otp-configs.module.js';
import { UsersModule } from '#src/users/users.module.js';
import { AdminCreateCommand } from './commands/admin.commands.js';
import { API_KEY_COMMANDS } from './commands/api-keys.commands.js';
import { AuditVerifyCommand } from './commands/audit.commands.js';
import { DevicesRekeyCommand } from './commands/devices.commands.js';
import { KEY_COMMANDS } from './commands/keys.commands.js';
import { SecretsRotateCommand } from './commands/secrets.commands.js';
import { SecretsRotationService } from './secrets-rotation.service.js';

@Global()
@Module({})
class CliClockModule {
  static forRoot(): DynamicModule {
    return { module: CliClockModule, providers: [{ provide: Clock, useValue: new SystemClock() }], exports: [Clock] };
  }
}

/** The service's own modules without HTTP, plus the commands that drive them. */
@Module({})
export class CliModule {
  /** `exclusiveDatabase`: the embedded database this process started (see InvalidationChannel). */
  static forRoot(config: AppConfig & { database: { url: string } }, exclusiveDatabase = false): DynamicModule {
    return {
      module: CliModule,
      imports: [
        ConfigModule.forRoot(config),
        CliClockModule.forRoot(),
        DatabaseModule.forRoot({ ...config.database, url: config.database.url, exclusive: exclusiveDatabase }),
        AuditModule,
        CryptoModule,
        StoredSecretsCheckModule,
        UsersModule,
        ApiKeysModule,
        UsageKeysModule,
        DevicesModule,
        OtpConfigsModule,
      ],
      providers: [
        SecretsRotationService,
        AdminCreateCommand,
        ...API_KEY_COMMANDS,
        AuditVerifyCommand,
        DevicesRekeyCommand,
        ...KEY_COMMANDS,
        SecretsRotateCommand,
      ],
    };
  }
}
