import { Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, UserOrApiKeyAuth } from '#src/common/auth/auth.decorators.js';
import type { Principal } from '#src/common/auth/principal.js';
import { ProblemException } from '#src/common/problem.js';
import { COMPAT_PATHS } from '#src/compat/compat-paths.js';
import { KeyNameDto } from '#src/keys/dto/usage-key.dto.js';
import { UsageKeysService } from '#src/keys/usage-keys.service.js';
import {
  UsageKeysCompatCodeDto,
  UsageKeysCompatErrorDto,
  UsageKeysCompatInfoDto,
  UsageKeysCompatValidityDto,
} from './usage-keys-compat.dto.js';
import { toCompatCode, toCompatInfo, toCompatValidity } from './usage-keys-compat.mapper.js';

const NOT_FOUND = ApiNotFoundResponse({
  description: '`{"error": "Key not found"}`: unknown, or not the caller\'s (another owner\'s key answers the same)',
});
const BAD_INPUT = ApiBadRequestResponse({
  description: '`{"error": "..."}`: no `key`, a malformed one, or other fields',
});

/** The usage-count key generator's three routes; their contract is UsageKeysCompatModule's. */
@ApiTags('compat 000: usage-count keys')
@UserOrApiKeyAuth('keys:use')
@ApiResponse({ status: '4XX', type: UsageKeysCompatErrorDto, description: 'Refused: `{"error": "..."}`' })
@ApiResponse({ status: '5XX', type: UsageKeysCompatErrorDto, description: 'Failed: `{"error": "..."}`' })
@Controller(COMPAT_PATHS.usageKeys)
export class UsageKeysCompatController {
  constructor(private readonly keys: UsageKeysService) {}

  @Post('get-code')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Consume one use of a key and get its current code (as POST /api/v1/keys/code)',
    description: 'A key with no uses left answers 403 `{"error": "Key has reached its usage limit (N/N uses)"}`.',
  })
  @ApiOkResponse({ type: UsageKeysCompatCodeDto })
  @ApiForbiddenResponse({ description: 'The key is spent or expired; or the credential lacks `keys:use`' })
  @NOT_FOUND
  @BAD_INPUT
  async getCode(@Body() dto: KeyNameDto, @CurrentPrincipal() actor: Principal): Promise<UsageKeysCompatCodeDto> {
    return toCompatCode(await this.keys.useKey(dto.key, actor));
  }

  @Post('validate-key')
  @HttpCode(200)
  @ApiOperation({ summary: 'Whether a key would yield a code now, with its uses; consumes nothing' })
  @ApiOkResponse({ type: UsageKeysCompatValidityDto })
  @NOT_FOUND
  @BAD_INPUT
  async validateKey(
    @Body() dto: KeyNameDto,
    @CurrentPrincipal() actor: Principal,
  ): Promise<UsageKeysCompatValidityDto> {
    return toCompatValidity(await this.keys.validate(dto.key, actor));
  }

  @Post('key-info')
  @HttpCode(200)
  @ApiOperation({ summary: 'Usage facts of a key (limit, count, uses left, last use, creation); consumes nothing' })
  @ApiOkResponse({ type: UsageKeysCompatInfoDto })
  @NOT_FOUND
  @BAD_INPUT
  async keyInfo(@Body() dto: KeyNameDto, @CurrentPrincipal() actor: Principal): Promise<UsageKeysCompatInfoDto> {
    const info = await this.keys.info(dto.key, actor);
    // The service answers (and audits) a name the caller does not reach as `exists: false`; the system said 404.
    if (!info.exists) throw new ProblemException(HttpStatus.NOT_FOUND, 'KEY_NOT_FOUND', `No key named "${dto.key}".`);
    return toCompatInfo(info as Required<typeof info>);
  }
}
