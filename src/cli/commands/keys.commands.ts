import { readFile } from 'node:fs/promises';
import { Command, Option } from 'nest-commander';
import {
  CreatedUsageKeyDto,
  CreateUsageKeyDto,
  ImportUsageKeysDto,
  ImportUsageKeysResultDto,
  ListUsageKeysQueryDto,
  UpdateUsageKeyDto,
  UsageKeyResponseDto,
} from '#src/keys/dto/usage-key.dto.js';
import { UsageKeysService } from '#src/keys/usage-keys.service.js';
import { CliError, output, parseInteger, renderRecord, renderTable, validated } from '../output.js';
import { CliCommand, JsonOption, SYSTEM } from './base.command.js';

const KEY_COLUMNS = ['name', 'status', 'max_uses', 'usage_count', 'remaining_uses', 'last_used', 'expires_at'];

const showKey = (json: boolean | undefined, key: UsageKeyResponseDto | CreatedUsageKeyDto): void =>
  output(json, key, () => renderRecord({ ...key }));

@Command({ name: 'keys:list', description: 'List usage-limited keys with their status and remaining uses' })
export class KeysListCommand extends CliCommand<JsonOption & { status?: string; limit?: number; offset?: number }> {
  constructor(private readonly keys: UsageKeysService) {
    super();
  }

  async run(_: string[], options: JsonOption & { status?: string; limit?: number; offset?: number }): Promise<void> {
    const query = await validated(ListUsageKeysQueryDto, {
      limit: options.limit ?? 100,
      offset: options.offset ?? 0,
      ...(options.status ? { status: options.status } : {}),
    });
    const page = await this.keys.list(query);
    output(options.json, page, () => {
      const more = page.total > page.offset + page.items.length ? ` (use --offset for more)` : '';
      return `${renderTable(page.items, KEY_COLUMNS)}${page.total} key(s)${more}\n`;
    });
  }

  @Option({ flags: '--status <status>', description: 'only active, depleted or expired keys' })
  parseStatus(value: string): string {
    return value;
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

interface AddOptions extends JsonOption {
  maxUses?: number;
  secret?: string;
  expiresAt?: string;
  algorithm?: string;
  digits?: number;
  period?: number;
}

@Command({
  name: 'keys:add',
  arguments: '<name>',
  description: 'Create a key (secret generated unless --secret); prints the secret once',
})
export class KeysAddCommand extends CliCommand<AddOptions> {
  constructor(private readonly keys: UsageKeysService) {
    super();
  }

  async run([name]: string[], options: AddOptions): Promise<void> {
    const dto = await validated(CreateUsageKeyDto, {
      name,
      max_uses: options.maxUses ?? 1,
      ...(options.secret !== undefined ? { secret: options.secret } : {}),
      ...(options.expiresAt !== undefined ? { expires_at: options.expiresAt } : {}),
      ...(options.algorithm !== undefined ? { algorithm: options.algorithm } : {}),
      ...(options.digits !== undefined ? { digits: options.digits } : {}),
      ...(options.period !== undefined ? { period: options.period } : {}),
    });
    const created = await this.keys.create(dto, SYSTEM);
    showKey(options.json, created);
    if (!options.json) process.stderr.write('The secret is shown only now: store it safely.\n');
  }

  @Option({ flags: '--max-uses <n>', description: 'codes the key may yield (default 1; -1 or "unlimited")' })
  parseMaxUses(value: string): number {
    return parseInteger('--max-uses', value, { unlimited: true });
  }

  @Option({ flags: '--secret <base32>', description: 'import this base32 secret (at least 80 bits)' })
  parseSecret(value: string): string {
    return value;
  }

  @Option({ flags: '--expires-at <iso>', description: 'no codes after this time (ISO 8601)' })
  parseExpiresAt(value: string): string {
    return value;
  }

  @Option({ flags: '--algorithm <alg>', description: 'sha1 (default), sha256 or sha512' })
  parseAlgorithm(value: string): string {
    return value;
  }

  @Option({ flags: '--digits <n>', description: '6 (default) to 8' })
  parseDigits(value: string): number {
    return parseInteger('--digits', value);
  }

  @Option({ flags: '--period <seconds>', description: 'TOTP period, 10-300 (default 30)' })
  parsePeriod(value: string): number {
    return parseInteger('--period', value);
  }
}

@Command({
  name: 'keys:set-limit',
  arguments: '<name> <max-uses>',
  description: 'Set the limit of a key (-1 or "unlimited" for none); the count is kept',
})
export class KeysSetLimitCommand extends CliCommand {
  constructor(private readonly keys: UsageKeysService) {
    super();
  }

  async run([name, limit]: string[], options: JsonOption): Promise<void> {
    const dto = await validated(UpdateUsageKeyDto, {
      max_uses: parseInteger('max-uses', limit, { unlimited: true }),
    });
    showKey(options.json, await this.keys.update(name, dto, SYSTEM));
  }
}

@Command({ name: 'keys:reset', arguments: '<name>', description: 'Set the usage count of a key back to zero' })
export class KeysResetCommand extends CliCommand {
  constructor(private readonly keys: UsageKeysService) {
    super();
  }

  async run([name]: string[], options: JsonOption): Promise<void> {
    showKey(options.json, await this.keys.reset(name, SYSTEM));
  }
}

@Command({ name: 'keys:show', arguments: '<name>', description: 'Show one key (never its secret)' })
export class KeysShowCommand extends CliCommand {
  constructor(private readonly keys: UsageKeysService) {
    super();
  }

  async run([name]: string[], options: JsonOption): Promise<void> {
    showKey(options.json, await this.keys.get(name));
  }
}

@Command({ name: 'keys:delete', arguments: '<name>', description: 'Delete a key and its usage history' })
export class KeysDeleteCommand extends CliCommand {
  constructor(private readonly keys: UsageKeysService) {
    super();
  }

  async run([name]: string[], options: JsonOption): Promise<void> {
    await this.keys.delete(name, SYSTEM);
    output(options.json, { deleted: name }, () => `deleted key "${name}"\n`);
  }
}

interface ImportOptions extends JsonOption {
  dryRun?: boolean;
  replace?: boolean;
}

@Command({
  name: 'keys:import',
  arguments: '<file>',
  description:
    'Import keys from a reference JSON file {"NAME": {secret, max_uses, usage_count, created_at, last_used}}',
})
export class KeysImportCommand extends CliCommand<ImportOptions> {
  constructor(private readonly keys: UsageKeysService) {
    super();
  }

  async run([file]: string[], options: ImportOptions): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
    }
    const dto = await validated(ImportUsageKeysDto, {
      keys: parsed,
      dry_run: options.dryRun ?? false,
      replace: options.replace ?? false,
    });
    const result: ImportUsageKeysResultDto = await this.keys.import(dto, SYSTEM);
    output(options.json, result, () => {
      const rows = result.results.map((r) => ({ ...r, errors: r.errors?.join('; ') }));
      const summary =
        `${result.dry_run ? 'dry run, nothing written: ' : ''}` +
        `${result.created} created, ${result.replaced} replaced, ${result.skipped} skipped, ${result.invalid} invalid`;
      return `${renderTable(rows, ['name', 'status', 'errors'])}${summary}\n`;
    });
    if (result.invalid > 0) process.exitCode = 2;
  }

  @Option({ flags: '--dry-run', description: 'check and report only; write nothing' })
  parseDryRun(): boolean {
    return true;
  }

  @Option({ flags: '--replace', description: 'overwrite keys that already exist (otherwise skipped)' })
  parseReplace(): boolean {
    return true;
  }
}

export const KEY_COMMANDS = [
  KeysListCommand,
  KeysAddCommand,
  KeysSetLimitCommand,
  KeysResetCommand,
  KeysShowCommand,
  KeysDeleteCommand,
  KeysImportCommand,
];
