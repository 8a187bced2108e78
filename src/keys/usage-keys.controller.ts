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
import { PageQueryDto } from '#src/common/pagination.dto.js';
import { ApiSecretUnreadableResponse } from '#src/common/secret-unreadable.decorator.js';
import {
  CreatedUsageKeyDto,
  CreateUsageKeyDto,
  ImportUsageKeysDto,
  ImportUsageKeysResultDto,
  KeyCodeResponseDto,
  KeyInfoResponseDto,
  KeyNameDto,
  KeyValidateResponseDto,
  ListUsageKeysQueryDto,
  UpdateUsageKeyDto,
  UsageKeyEventPageDto,
  UsageKeyPageDto,
  UsageKeyResponseDto,
} from './dto/usage-key.dto.js';
import { KeyNameParam } from './key-name.pipe.js';
import { UsageKeysService } from './usage-keys.service.js';

const NAME_PARAM = ApiParam({ name: 'name', description: 'The key name', example: 'deploy-approval' });

/** Using keys: an enterprise client with `keys:use`, or a signed-in person. */
@ApiTags('keys')
@Controller('keys')
export class UsageKeysUseController {
  constructor(private readonly keys: UsageKeysService) {}

  @Post('code')
  @HttpCode(200)
  @UserOrApiKeyAuth('keys:use')
  @ApiOperation({ summary: 'Consume one use of a key and get its current code' })
  @ApiOkResponse({ type: KeyCodeResponseDto })
  @ApiNotFoundResponse({ description: 'KEY_NOT_FOUND' })
  @ApiSecretUnreadableResponse(
    'KEY_DEPLETED (no uses left; the problem carries `usage_info`) or KEY_EXPIRED (past `expires_at`)',
  )
  code(@Body() dto: KeyNameDto, @CurrentPrincipal() actor: Principal): Promise<KeyCodeResponseDto> {
    return this.keys.useKey(dto.key, actor);
  }

  @Post('validate')
  @HttpCode(200)
  @UserOrApiKeyAuth('keys:use')
  @ApiOperation({ summary: 'Whether a key would yield a code now; consumes nothing' })
  @ApiOkResponse({ type: KeyValidateResponseDto })
  @ApiNotFoundResponse({ description: 'KEY_NOT_FOUND' })
  validate(@Body() dto: KeyNameDto): Promise<KeyValidateResponseDto> {
    return this.keys.validate(dto.key);
  }

  @Post('info')
  @HttpCode(200)
  @UserOrApiKeyAuth('keys:use')
  @ApiOperation({ summary: 'Usage facts of a key (`exists: false` for an unknown name); consumes nothing' })
  @ApiOkResponse({ type: KeyInfoResponseDto })
  info(@Body() dto: KeyNameDto): Promise<KeyInfoResponseDto> {
    return this.keys.info(dto.key);
  }
}

/** Managing keys: an administrator, or an API key with `keys:admin`. */
@ApiTags('keys')
@AdminOrApiKeyAuth('keys:admin')
@Controller('keys')
export class UsageKeysAdminController {
  constructor(private readonly keys: UsageKeysService) {}

  @Post()
  @ApiOperation({
    summary: 'Create a key (secret generated, or imported as base32); the secret is in this answer only',
  })
  @ApiCreatedResponse({ type: CreatedUsageKeyDto })
  @ApiConflictResponse({ description: 'KEY_EXISTS' })
  create(@Body() dto: CreateUsageKeyDto, @CurrentPrincipal() actor: Principal): Promise<CreatedUsageKeyDto> {
    return this.keys.create(dto, actor);
  }

  @Post('import')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Import keys from the reference JSON format, keeping counts and timestamps',
    description:
      'Each entry is checked on its own and reported (`created`, `replaced`, `skipped`, `invalid`). Invalid ' +
      'entries and existing names (unless `replace`) are skipped; the rest is written in one transaction, ' +
      'all or nothing. `dry_run` reports the same results and writes nothing.',
  })
  @ApiOkResponse({ type: ImportUsageKeysResultDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED or IMPORT_TOO_LARGE' })
  import(@Body() dto: ImportUsageKeysDto, @CurrentPrincipal() actor: Principal): Promise<ImportUsageKeysResultDto> {
    return this.keys.import(dto, actor);
  }

  @Get()
  @ApiOperation({ summary: 'List keys with their status and remaining uses (never their secrets)' })
  @ApiOkResponse({ type: UsageKeyPageDto })
  list(@Query() query: ListUsageKeysQueryDto): Promise<UsageKeyPageDto> {
    return this.keys.list(query);
  }

  @Get(':name')
  @NAME_PARAM
  @ApiOperation({ summary: 'One key' })
  @ApiOkResponse({ type: UsageKeyResponseDto })
  @ApiNotFoundResponse({ description: 'KEY_NOT_FOUND' })
  get(@Param('name', KeyNameParam) name: string): Promise<UsageKeyResponseDto> {
    return this.keys.get(name);
  }

  @Patch(':name')
  @NAME_PARAM
  @ApiOperation({ summary: 'Set the limit and/or the expiry of a key; its count is kept' })
  @ApiOkResponse({ type: UsageKeyResponseDto })
  @ApiNotFoundResponse({ description: 'KEY_NOT_FOUND' })
  update(
    @Param('name', KeyNameParam) name: string,
    @Body() dto: UpdateUsageKeyDto,
    @CurrentPrincipal() actor: Principal,
  ): Promise<UsageKeyResponseDto> {
    return this.keys.update(name, dto, actor);
  }

  @Post(':name/reset')
  @HttpCode(200)
  @NAME_PARAM
  @ApiOperation({ summary: 'Set the usage count of a key back to zero' })
  @ApiOkResponse({ type: UsageKeyResponseDto })
  @ApiNotFoundResponse({ description: 'KEY_NOT_FOUND' })
  reset(@Param('name', KeyNameParam) name: string, @CurrentPrincipal() actor: Principal): Promise<UsageKeyResponseDto> {
    return this.keys.reset(name, actor);
  }

  @Delete(':name')
  @HttpCode(204)
  @NAME_PARAM
  @ApiOperation({ summary: 'Delete a key and its usage history' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'KEY_NOT_FOUND' })
  delete(@Param('name', KeyNameParam) name: string, @CurrentPrincipal() actor: Principal): Promise<void> {
    return this.keys.delete(name, actor);
  }

  @Get(':name/usage')
  @NAME_PARAM
  @ApiOperation({ summary: 'Uses and refused attempts of a key, newest first' })
  @ApiOkResponse({ type: UsageKeyEventPageDto })
  @ApiNotFoundResponse({ description: 'KEY_NOT_FOUND' })
  usage(@Param('name', KeyNameParam) name: string, @Query() query: PageQueryDto): Promise<UsageKeyEventPageDto> {
    return this.keys.usage(name, query);
  }
}
