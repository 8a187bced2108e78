import { InjectDataSource } from '@nestjs/typeorm';
import { Command, Option } from 'nest-commander';
import { DataSource } from 'typeorm';
import { AuditService } from '#src/audit/audit.service.js';
import { randomToken } from '#src/crypto/random.js';
import { RegisterDto } from '#src/users/dto/user.dto.js';
import { hashPassword } from '#src/users/password-hasher.js';
import { toUserResponse } from '#src/users/users.mapper.js';
import { UsersService } from '#src/users/users.service.js';
import { output, renderRecord, validated } from '../output.js';
import { CliCommand, JsonOption } from './base.command.js';

interface AdminOptions extends JsonOption {
  email?: string;
  password?: string;
}

@Command({
  name: 'admin:create',
  arguments: '<username>',
  description:
    'Create an administrator. Without --password one is generated, printed once, and must be changed at first login',
})
export class AdminCreateCommand extends CliCommand<AdminOptions> {
  constructor(
    private readonly users: UsersService,
    private readonly audit: AuditService,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {
    super();
  }

  async run([username]: string[], options: AdminOptions): Promise<void> {
    const generated = options.password === undefined ? `${randomToken(18)}Aa1!` : undefined;
    const dto = await validated(RegisterDto, {
      username,
      email: options.email ?? `${username}@localhost.invalid`,
      password: options.password ?? generated,
    });
    const passwordHash = await hashPassword(dto.password);
    const user = await this.dataSource.transaction(async (manager) => {
      const created = await this.users.insertUser(manager, {
        username: dto.username,
        email: dto.email,
        passwordHash,
        role: 'admin',
        mustChangePassword: generated !== undefined,
      });
      await this.audit.record(
        {
          actorType: 'system',
          action: 'user.create_admin',
          resource: 'user',
          resourceId: created.id,
          status: 'success',
        },
        manager,
      );
      return created;
    });
    const answer = { ...toUserResponse(user), ...(generated ? { password: generated } : {}) };
    output(options.json, answer, () => renderRecord(answer));
    if (generated && !options.json) {
      process.stderr.write('The password is shown only now; it must be changed at the first sign-in.\n');
    }
  }

  @Option({ flags: '--email <address>', description: 'e-mail address (default USERNAME@localhost.invalid)' })
  parseEmail(value: string): string {
    return value;
  }

  @Option({ flags: '--password <password>', description: 'password meeting the policy (generated when omitted)' })
  parsePassword(value: string): string {
    return value;
  }
}
