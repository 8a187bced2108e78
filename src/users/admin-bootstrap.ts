import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '#src/audit/audit.service.js';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { randomToken } from '#src/crypto/random.js';
import { hashPassword } from './password-hasher.js';
import { passwordPolicyViolations } from './password-policy.js';
import { UsersService } from './users.service.js';

/** Arbitrary constant naming the advisory lock that lets one instance create the first admin. */
const BOOTSTRAP_LOCK_ID = 0x0a0d18;

/** The first administrator with its generated one-time password, for the start-up notice. */
export interface GeneratedAdmin {
  username: string;
  password: string;
}

/**
 * On the first start (no users at all) creates an administrator from ADMIN_* settings, or
 * with a generated password that is shown once (on the console, by the entry point: never
 * in structured logs) and must be changed at first sign-in.
 */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('AdminBootstrap');
  private generated: GeneratedAdmin | undefined;

  constructor(
    private readonly users: UsersService,
    private readonly audit: AuditService,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { username, email, password } = this.config.admin;
    if (password && passwordPolicyViolations(password).length > 0) {
      this.logger.error(
        `ADMIN_PASSWORD does not meet the password policy: ${passwordPolicyViolations(password).join(', ')}`,
      );
      return;
    }
    const generated = password ? undefined : generatePassword();
    const created = await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK_ID]);
      const [{ exists }] = await manager.query('SELECT EXISTS (SELECT 1 FROM users) AS exists');
      if (exists) return false;
      const user = await this.users.insertUser(manager, {
        username,
        email: email ?? `${username}@localhost`,
        passwordHash: await hashPassword(password ?? generated!),
        role: 'admin',
        mustChangePassword: !password,
      });
      await this.audit.record(
        {
          actorType: 'system',
          action: 'user.bootstrap_admin',
          resource: 'user',
          resourceId: user.id,
          status: 'success',
        },
        manager,
      );
      return true;
    });
    if (!created) return;
    if (generated) this.generated = { username, password: generated };
    else this.logger.log(`first administrator "${username}" created from ADMIN_* settings`);
  }

  /** The generated first administrator, once: later calls answer undefined. */
  takeGenerated(): GeneratedAdmin | undefined {
    const generated = this.generated;
    this.generated = undefined;
    return generated;
  }
}

/** 24 random characters plus one of each class the policy asks for. */
function generatePassword(): string {
  return `${randomToken(18)}Aa1!`;
}
