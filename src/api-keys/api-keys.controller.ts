import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AdminAuth, CurrentUser, StepUp } from '#src/common/auth/auth.decorators.js';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { PageQueryDto } from '#src/common/pagination.dto.js';
import { UuidParam } from '#src/common/validators.js';
import { ApiKeysService } from './api-keys.service.js';
import { ApiKeyPageDto, ApiKeyResponseDto, CreateApiKeyDto, CreatedApiKeyDto } from './dto/api-key.dto.js';

@ApiTags('api-keys')
@AdminAuth()
@Controller('api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Post()
  @ApiOperation({ summary: 'Issue an API key for a client; the key is in this answer only' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  create(@Body() dto: CreateApiKeyDto, @CurrentUser() admin: UserPrincipal): Promise<CreatedApiKeyDto> {
    return this.apiKeys.create(dto, admin);
  }

  @Get()
  @ApiOperation({ summary: 'List API keys (never their secrets)' })
  @ApiOkResponse({ type: ApiKeyPageDto })
  list(@Query() query: PageQueryDto): Promise<ApiKeyPageDto> {
    return this.apiKeys.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One API key' })
  @ApiOkResponse({ type: ApiKeyResponseDto })
  @ApiNotFoundResponse({ description: 'API_KEY_NOT_FOUND' })
  get(@Param('id', UuidParam) id: string): Promise<ApiKeyResponseDto> {
    return this.apiKeys.get(id);
  }

  @Post(':id/rotate')
  @HttpCode(200)
  @StepUp()
  @ApiOperation({ summary: 'Replace the secret of a key; the old secret stops working at once (needs a step-up)' })
  @ApiOkResponse({ type: CreatedApiKeyDto })
  rotate(@Param('id', UuidParam) id: string, @CurrentUser() admin: UserPrincipal): Promise<CreatedApiKeyDto> {
    return this.apiKeys.rotate(id, admin);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a key' })
  @ApiNoContentResponse()
  revoke(@Param('id', UuidParam) id: string, @CurrentUser() admin: UserPrincipal): Promise<void> {
    return this.apiKeys.revoke(id, admin);
  }
}
