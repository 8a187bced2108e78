import { readFile } from 'node:fs/promises';
import { Command, Option } from 'nest-commander';
import {
  CreatedUsageKeyDto,
  CreateUsageKeyDto,
  ImportUsageKeysDto,
  ImportUsageKeysResultDto,
  KeyOwnerQueryDto,
  ListUsageKeysQueryDto,
  UpdateUsageKeyDto,
  UsageKeyResponseDto,
} from '#src/keys/dto/usage-key.dto.js';
import { UsageKeysService } from '#src/keys/usage-keys.service.js';
import { UsersService } from '#src/users/users.service.js';
import { CliError, output, parseInteger, renderRecord, renderTable, validated } from '../output.js';
import { CliCommand, JsonOption, SYSTEM } from './base.command.js';

/** `client_id` last: "-" is the admin space. */
const KEY_COLUMNS = [
  'name',
  'status',
  'max_uses',
  'usage_count',
  'remaining_uses',
  'last_used',
  'expires_at',
  'client_id',
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const showKey = (json: boolean | undefined, key: UsageKeyResponseDto | CreatedUsageKeyDto): void =>
  output(json, key, () => renderRecord({ ...key }));

/** `--client ID`: the command addresses that API client's key instead of the admin space's. */
interface OwnerOption extends JsonOption {
  client?: string;
}

/** A command on one key, addressed in the admin space or, with `--client`, a client's space. */
abstract class KeyOwnerCommand extends CliCommand<OwnerOption> {
  /** The owner as the API's `client_id` query parameter checks it. */
  protected async clientOf(options: OwnerOption): Promise<string | undefined> {
    if (options.client === undefined) return undefined;
    return (await validated(KeyOwnerQueryDto, { client_id: options.client })).client_id;
  }

  @Option({
    flags: '--client <client-id>',
    description: "the API client's key of that name (default: the admin space)",
  })
  parseClient(value: string): string {
    return value;
  }
}

interface ListOptions extends OwnerOption {
  status?: string;
  space?: string;
  limit?: number;
  offset?: number;
}

@Command({
  name: 'keys:list',
  description: 'List usage-limited keys of every owner with their status and remaining uses',
})
export class KeysListCommand extends CliCommand<ListOptions> {
  constructor(private readonly keys: UsageKeysService) {
    super();
  }

  async run(_: string[], options: ListOptions): Promise<void> {
    const query = await validated(ListUsageKeysQueryDto, {
      limit: options.limit ?? 100,
      offset: options.offset ?? 0,
      ...(options.status ? { status: options.status } : {}),
      ...(options.client !== undefined ? { client_id: options.client } : {}),
      ...(options.space !== undefined ? { space: options.space } : {}),
    });
    const page = await this.keys.list(query, SYSTEM);
    output(options.json, page, () => {
      const more = page.total > page.offset + page.items.length ? ` (use --offset for more)` : '';
      return `${renderTable(page.items, KEY_COLUMNS)}${page.total} key(s)${more}\n`;
    });
  }

  @Option({ flags: '--status <status>', description: 'only active, depleted or expired keys' })
  parseStatus(value: string): string {
    return value;
  }

  @Option({ flags: '--client <client-id>', description: "only this API client's keys" })
  parseClient(value: string): string {
    return value;
  }

  @Option({ flags: '--space <space>', description: "only admin-space keys (admin) or API clients' keys (client)" })
  parseSpace(value: string): string {
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
  assign?: string[];
}

@Command({
  name: 'keys:add',
  arguments: '<name>',
  description: 'Create an admin-space key (secret generated unless --secret); prints the secret once',
})
export class KeysAddCommand extends CliCommand<AddOptions> {
  constructor(
    private readonly keys: UsageKeysService,
    private readonly users: UsersService,
  ) {
    super();
  }

  async run([name]: string[], options: AddOptions): Promise<void> {
    const assigned = options.assign ? await Promise.all(options.assign.map((ref) => this.userId(ref))) : undefined;
    const dto = await validated(CreateUsageKeyDto, {
      name,
      max_uses: options.maxUses ?? 1,
      ...(options.secret !== undefined ? { secret: options.secret } : {}),
      ...(options.expiresAt !== undefined ? { expires_at: options.expiresAt } : {}),
      ...(options.algorithm !== undefined ? { algorithm: options.algorithm } : {}),
      ...(options.digits !== undefined ? { digits: options.digits } : {}),
      ...(options.period !== undefined ? { period: options.period } : {}),
      ...(assigned !== undefined ? { assigned_user_ids: assigned } : {}),
    });
    const created = await this.keys.create(dto, SYSTEM);
    showKey(options.json, created);
    if (!options.json) process.stderr.write('The secret is shown only now: store it safely.\n');
  }

  /** A user id as given, or the id of the account with that username. */
  private async userId(ref: string): Promise<string> {
    if (UUID.test(ref)) return ref;
    const id = await this.users.idOfUsername(ref);
    if (!id) throw new CliError(`--assign: no user named "${ref}"`);
    return id;
  }

  @Option({
    flags: '--assign <user>',
    description: 'a person (user id or username) who may use the key; repeat for more',
  })
  parseAssign(value: string, previous: string[] = []): string[] {
    return [...previous, value];
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
export class KeysSetLimitCommand extends KeyOwnerCommand {
  constructor(private readonly keys: UsageKeysService) {
    super();
  }

  async run([name, limit]: string[], options: OwnerOption): Promise<void> {
    const dto = await validated(UpdateUsageKeyDto, {
      max_uses: parseInteger('max-uses', limit, { unlimited: true }),
    });
    showKey(options.json, await this.keys.update(name, dto, SYSTEM, await this.clientOf(options)));
  }
}

@Command({ name: 'keys:reset', arguments: '<name>', description: 'Set the usage count of a key back to zero' })
export class KeysResetCommand extends KeyOwnerCommand {
  constructor(private readonly keys: UsageKeysService) {
    super();
  }

  async run([name]: string[], options: OwnerOption): Promise<void> {
    showKey(options.json, await this.keys.reset(name, SYSTEM, await this.clientOf(options)));
  }
}

@Command({ name: 'keys:show', arguments: '<name>', description: 'Show one key (never its secret)' })
export class KeysShowCommand extends KeyOwnerCommand {
  constructor(private readonly keys: UsageKeysService) {
    super();
  }

  async run([name]: string[], options: OwnerOption): Promise<void> {
    showKey(options.json, await this.keys.get(name, SYSTEM, await this.clientOf(options)));
  }
}

@Command({ name: 'keys:delete', arguments: '<name>', description: 'Delete a key and its usage history' })
export class KeysDeleteCommand extends KeyOwnerCommand {
  constructor(private readonly keys: UsageKeysService) {
    super();
  }

  async run([name]: string[], options: OwnerOption): Promise<void> {
    await this.keys.delete(name, SYSTEM, await this.clientOf(options));
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
    'Import admin-space keys from a reference JSON file {"NAME": {secret, max_uses, usage_count, created_at, last_used}}',
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
