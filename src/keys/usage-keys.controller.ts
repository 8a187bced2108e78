import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { AdminOrApiKeyAuth, CurrentPrincipal, UserOrApiKeyAuth } from '#src/common/auth/auth.decorators.js';
import type { Principal } from '#src/common/auth/principal.js';
import {
  CreatedUsageKeyDto,
  CreateUsageKeyDto,
  ImportUsageKeysDto,
  ImportUsageKeysResultDto,
  KeyCodeResponseDto,
  KeyInfoResponseDto,
  KeyNameDto,
  KeyOwnerQueryDto,
  KeyUsageQueryDto,
  KeyValidateResponseDto,
  ListUsageKeysQueryDto,
  UpdateUsageKeyDto,
  UsageKeyEventPageDto,
  UsageKeyPageDto,
  UsageKeyResponseDto,
} from './dto/usage-key.dto.js';
import { KeyNameParam } from './key-name.pipe.js';
import { UsageKeysService } from './usage-keys.service.js';

const NAME_PARAM = ApiParam({
  name: 'name',
  description: "The key name, in the admin space or (with `client_id`) that client's space",
  example: 'deploy-approval',
});

const NOT_FOUND = ApiNotFoundResponse({
  description: "KEY_NOT_FOUND: no such name in the addressed space (another owner's key answers the same)",
});

/**
 * Using keys: an enterprise client with `keys:use` (its own client's keys), or a signed-in
 * person (admin-space keys assigned to them; an administrator: every admin-space key).
 */
@ApiTags('keys')
@Controller('keys')
export class UsageKeysUseController {
  constructor(private readonly keys: UsageKeysService) {}

  @Post('code')
  @HttpCode(200)
  @UserOrApiKeyAuth('keys:use')
  @ApiOperation({
    summary: 'Consume one use of a key and get its current code',
    description:
      "An API key uses its own client's keys; a person the admin-space keys assigned to them; an " +
      'administrator every admin-space key. Any other name answers 404 KEY_NOT_FOUND, as an unknown one does.',
  })
  @ApiOkResponse({ type: KeyCodeResponseDto })
  @NOT_FOUND
  @ApiConflictResponse({
    description: 'KEY_DEPLETED (no uses left; the problem carries `usage_info`) or KEY_EXPIRED (past `expires_at`)',
  })
  code(@Body() dto: KeyNameDto, @CurrentPrincipal() actor: Principal): Promise<KeyCodeResponseDto> {
    return this.keys.useKey(dto.key, actor);
  }

  @Post('validate')
  @HttpCode(200)
  @UserOrApiKeyAuth('keys:use')
  @ApiOperation({ summary: 'Whether a key would yield a code now; consumes nothing (same reach as keys/code)' })
  @ApiOkResponse({ type: KeyValidateResponseDto })
  @NOT_FOUND
  validate(@Body() dto: KeyNameDto, @CurrentPrincipal() actor: Principal): Promise<KeyValidateResponseDto> {
    return this.keys.validate(dto.key, actor);
  }

  @Post('info')
  @HttpCode(200)
  @UserOrApiKeyAuth('keys:use')
  @ApiOperation({
    summary: 'Usage facts of a key; consumes nothing (same reach as keys/code)',
    description: "A name the caller does not reach, unknown or another owner's, answers `{key, exists: false}`.",
  })
  @ApiOkResponse({ type: KeyInfoResponseDto })
  info(@Body() dto: KeyNameDto, @CurrentPrincipal() actor: Principal): Promise<KeyInfoResponseDto> {
    return this.keys.info(dto.key, actor);
  }
}

/**
 * Managing keys: an administrator (every key: the admin space by default, a client's with
 * `?client_id=`), or an API key with `keys:admin` (its own client's keys only).
 */
@ApiTags('keys')
@AdminOrApiKeyAuth('keys:admin')
@Controller('keys')
export class UsageKeysAdminController {
  constructor(private readonly keys: UsageKeysService) {}

  @Post()
  @ApiOperation({
    summary: 'Create a key (secret generated, or imported as base32); the secret is in this answer only',
    description:
      "The key belongs to the caller's space: an API key's client, or the admin space for administrators, " +
      'who may assign it to people (`assigned_user_ids`).',
  })
  @ApiCreatedResponse({ type: CreatedUsageKeyDto })
  @ApiBadRequestResponse({
    description: 'VALIDATION_FAILED (also: assigned_user_ids on a client key, or naming no user)',
  })
  @ApiConflictResponse({ description: "KEY_EXISTS (the name is taken in the caller's space)" })
  create(@Body() dto: CreateUsageKeyDto, @CurrentPrincipal() actor: Principal): Promise<CreatedUsageKeyDto> {
    return this.keys.create(dto, actor);
  }

  @Post('import')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Import keys from the reference JSON format, keeping counts and timestamps',
    description:
      "Into the caller's own space (an API key's client, or the admin space). Each entry is checked on its " +
      'own and reported (`created`, `replaced`, `skipped`, `invalid`). Invalid entries and names that exist ' +
      "in that space (unless `replace`, which never touches another owner's key) are skipped; the rest is " +
      'written in one transaction, all or nothing. `dry_run` reports the same results and writes nothing.',
  })
  @ApiOkResponse({ type: ImportUsageKeysResultDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED or IMPORT_TOO_LARGE' })
  import(@Body() dto: ImportUsageKeysDto, @CurrentPrincipal() actor: Principal): Promise<ImportUsageKeysResultDto> {
    return this.keys.import(dto, actor);
  }

  @Get()
  @ApiOperation({
    summary: 'List keys with their owner, status and remaining uses (never their secrets)',
    description: "Administrators see every key, filtered by `client_id` or `space`; an API key its own client's keys.",
  })
  @ApiOkResponse({ type: UsageKeyPageDto })
  list(@Query() query: ListUsageKeysQueryDto, @CurrentPrincipal() actor: Principal): Promise<UsageKeyPageDto> {
    return this.keys.list(query, actor);
  }

  @Get(':name')
  @NAME_PARAM
  @ApiOperation({ summary: 'One key' })
  @ApiOkResponse({ type: UsageKeyResponseDto })
  @NOT_FOUND
  get(
    @Param('name', KeyNameParam) name: string,
    @Query() owner: KeyOwnerQueryDto,
    @CurrentPrincipal() actor: Principal,
  ): Promise<UsageKeyResponseDto> {
    return this.keys.get(name, actor, owner.client_id);
  }

  @Patch(':name')
  @NAME_PARAM
  @ApiOperation({
    summary: 'Set the limit, the expiry and/or the people (admin-space keys) of a key; its count is kept',
  })
  @ApiOkResponse({ type: UsageKeyResponseDto })
  @ApiBadRequestResponse({
    description: 'VALIDATION_FAILED (also: assigned_user_ids on a client key, or naming no user)',
  })
  @NOT_FOUND
  update(
    @Param('name', KeyNameParam) name: string,
    @Query() owner: KeyOwnerQueryDto,
    @Body() dto: UpdateUsageKeyDto,
    @CurrentPrincipal() actor: Principal,
  ): Promise<UsageKeyResponseDto> {
    return this.keys.update(name, dto, actor, owner.client_id);
  }

  @Post(':name/reset')
  @HttpCode(200)
  @NAME_PARAM
  @ApiOperation({ summary: 'Set the usage count of a key back to zero' })
  @ApiOkResponse({ type: UsageKeyResponseDto })
  @NOT_FOUND
  reset(
    @Param('name', KeyNameParam) name: string,
    @Query() owner: KeyOwnerQueryDto,
    @CurrentPrincipal() actor: Principal,
  ): Promise<UsageKeyResponseDto> {
    return this.keys.reset(name, actor, owner.client_id);
  }

  @Delete(':name')
  @HttpCode(204)
  @NAME_PARAM
  @ApiOperation({ summary: 'Delete a key, its usage history and its assignments' })
  @ApiNoContentResponse()
  @NOT_FOUND
  delete(
    @Param('name', KeyNameParam) name: string,
    @Query() owner: KeyOwnerQueryDto,
    @CurrentPrincipal() actor: Principal,
  ): Promise<void> {
    return this.keys.delete(name, actor, owner.client_id);
  }

  @Get(':name/usage')
  @NAME_PARAM
  @ApiOperation({ summary: 'Uses and refused attempts of a key, newest first' })
  @ApiOkResponse({ type: UsageKeyEventPageDto })
  @NOT_FOUND
  usage(
    @Param('name', KeyNameParam) name: string,
    @Query() query: KeyUsageQueryDto,
    @CurrentPrincipal() actor: Principal,
  ): Promise<UsageKeyEventPageDto> {
    return this.keys.usage(name, query, actor);
  }
}
