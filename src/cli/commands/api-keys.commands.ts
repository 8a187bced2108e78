import { Command, Option } from 'nest-commander';
import { ApiKeysService } from '#src/api-keys/api-keys.service.js';
import { CreateApiKeyDto } from '#src/api-keys/dto/api-key.dto.js';
import { PageQueryDto } from '#src/common/pagination.dto.js';
import { UuidParam } from '#src/common/validators.js';
import { CliError, output, parseInteger, renderRecord, renderTable, validated } from '../output.js';
import { CliCommand, JsonOption, SYSTEM } from './base.command.js';

interface CreateOptions extends JsonOption {
  client?: string;
  scopes?: string[];
  expiresAt?: string;
}

@Command({
  name: 'api-keys:create',
  arguments: '<name>',
  description: 'Issue an API key for a client; prints the key once',
})
export class ApiKeysCreateCommand extends CliCommand<CreateOptions> {
  constructor(private readonly apiKeys: ApiKeysService) {
    super();
  }

  async run([name]: string[], options: CreateOptions): Promise<void> {
    const dto = await validated(CreateApiKeyDto, {
      name,
      client_id: options.client,
      scopes: options.scopes,
      ...(options.expiresAt !== undefined ? { expires_at: options.expiresAt } : {}),
    });
    const created = await this.apiKeys.create(dto, SYSTEM);
    output(options.json, created, () => renderRecord({ ...created }));
    if (!options.json) process.stderr.write('The key is shown only now: store it safely.\n');
  }

  @Option({ flags: '--client <client-id>', description: 'the client (tenant) the key acts for', required: true })
  parseClient(value: string): string {
    return value;
  }

  @Option({
    flags: '--scopes <list>',
    description: 'comma-separated: devices:write,devices:read,devices:verify,keys:use,keys:admin',
    required: true,
  })
  parseScopes(value: string): string[] {
    return value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  }

  @Option({ flags: '--expires-at <iso>', description: 'refuse the key after this time (ISO 8601)' })
  parseExpiresAt(value: string): string {
    return value;
  }
}

@Command({ name: 'api-keys:list', description: 'List API keys (never their secrets)' })
export class ApiKeysListCommand extends CliCommand<JsonOption & { limit?: number; offset?: number }> {
  constructor(private readonly apiKeys: ApiKeysService) {
    super();
  }

  async run(_: string[], options: JsonOption & { limit?: number; offset?: number }): Promise<void> {
    const query = await validated(PageQueryDto, { limit: options.limit ?? 100, offset: options.offset ?? 0 });
    const page = await this.apiKeys.list(query);
    output(
      options.json,
      page,
      () =>
        `${renderTable(page.items, ['id', 'name', 'client_id', 'prefix', 'scopes', 'status', 'usage_count', 'last_used_at'])}` +
        `${page.total} key(s)\n`,
    );
  }

  @Option({ flags: '--limit <n>', description: 'page size (1-100, default 100)' })
  parseLimit(value: string): number {
    return parseInteger('--limit', value);
  }

  @Option({ flags: '--offset <n>', description: 'skip this many keys' })
  parseOffset(value: string): number {
    return parseInteger('--offset', value);
  }
}

@Command({ name: 'api-keys:revoke', arguments: '<id>', description: 'Revoke an API key by id' })
export class ApiKeysRevokeCommand extends CliCommand {
  constructor(private readonly apiKeys: ApiKeysService) {
    super();
  }

  async run([id]: string[], options: JsonOption): Promise<void> {
    try {
      await UuidParam.transform(id, { type: 'param', data: 'id' });
    } catch {
      throw new CliError(`id must be a UUID, got "${id}"`);
    }
    await this.apiKeys.revoke(id, SYSTEM);
    output(options.json, { revoked: id }, () => `revoked API key ${id}\n`);
  }
}

export const API_KEY_COMMANDS = [ApiKeysCreateCommand, ApiKeysListCommand, ApiKeysRevokeCommand];
