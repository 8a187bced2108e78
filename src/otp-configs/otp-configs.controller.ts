import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentUser, StepUp, UserAuth } from '#src/common/auth/auth.decorators.js';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { RateLimit } from '#src/common/rate-limit/rate-limit.policies.js';
import { ApiSecretUnreadableResponse } from '#src/common/secret-unreadable.decorator.js';
import { UuidParam } from '#src/common/validators.js';
import { ApiLockedResponse } from '#src/common/locked-response.decorator.js';
import {
  CreatedOtpConfigDto,
  CreateOtpConfigDto,
  ExportOtpConfigsDto,
  ExportResultDto,
  ImportOtpConfigsDto,
  ImportResultDto,
  ListOtpConfigsQueryDto,
  OtpConfigPageDto,
  OtpConfigResponseDto,
  OtpQrDto,
  QrQueryDto,
  ReplaceSecretDto,
  UpdateOtpConfigDto,
} from './dto/otp-config.dto.js';
import { ResyncOtpDto, ResyncResultDto } from './dto/otp-codes.dto.js';
import { OtpCodesService } from './otp-codes.service.js';
import { OtpConfigsService } from './otp-configs.service.js';
import { OtpConfigTransferService } from './otp-config-transfer.service.js';

@ApiTags('otp-configs')
@UserAuth()
@ApiNotFoundResponse({ description: 'CONFIG_NOT_FOUND: no such configuration among yours' })
@Controller('otp/configs')
export class OtpConfigsController {
  constructor(
    private readonly configs: OtpConfigsService,
    private readonly codes: OtpCodesService,
    private readonly transfer: OtpConfigTransferService,
  ) {}

  @Post()
  @RateLimit('configCreate')
  @ApiOperation({ summary: 'Create a TOTP or HOTP configuration; its secret is in this answer only' })
  @ApiCreatedResponse({ type: CreatedOtpConfigDto })
  @ApiConflictResponse({ description: 'CONFIG_NAME_TAKEN' })
  create(@CurrentUser() me: UserPrincipal, @Body() dto: CreateOtpConfigDto): Promise<CreatedOtpConfigDto> {
    return this.configs.create(me, dto);
  }

  @Post('import')
  @HttpCode(200)
  @RateLimit('configCreate')
  @ApiOperation({
    summary: 'Import accounts: name + base32 secret, otpauth:// URIs, or an export (format); one result per item',
    description:
      'Formats: `otpauth` (URIs one per line in `content`, or a QR `image`), `google` (Google Authenticator ' +
      'otpauth-migration:// URIs in `content`, or the QR `image`), `aegis` (plain vault JSON), `2fauth` (JSON), ' +
      '`encrypted` (the backup of POST otp/configs/export with its `passphrase`). `dry_run` answers the same ' +
      'results and writes nothing.',
  })
  @ApiOkResponse({ type: ImportResultDto })
  @ApiBadRequestResponse({
    description:
      'VALIDATION_FAILED, IMPORT_TOO_LARGE, IMPORT_FORMAT_INVALID, ENCRYPTED_VAULT_UNSUPPORTED, QR_UNREADABLE or BACKUP_DECRYPTION_FAILED',
  })
  import(@CurrentUser() me: UserPrincipal, @Body() dto: ImportOtpConfigsDto): Promise<ImportResultDto> {
    return this.transfer.import(me, dto);
  }

  @Post('export')
  @HttpCode(200)
  @StepUp()
  @RateLimit('configCreate')
  @ApiOperation({
    summary: 'Export your accounts with their secrets: otpauth:// URIs, or a passphrase-encrypted backup',
    description:
      'The answer carries every secret: the session must have stepped up (POST auth/step-up) within STEP_UP_TTL. ' +
      'The backup format is described in docs/backup-format.md; POST otp/configs/import reads it back.',
  })
  @ApiOkResponse({ type: ExportResultDto })
  @ApiSecretUnreadableResponse()
  export(@CurrentUser() me: UserPrincipal, @Body() dto: ExportOtpConfigsDto): Promise<ExportResultDto> {
    return this.transfer.export(me, dto);
  }

  @Get()
  @ApiOperation({ summary: 'Your configurations (filter by type and active; search name or issuer)' })
  @ApiOkResponse({ type: OtpConfigPageDto })
  list(@CurrentUser() me: UserPrincipal, @Query() query: ListOtpConfigsQueryDto): Promise<OtpConfigPageDto> {
    return this.configs.list(me, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One of your configurations (never its secret)' })
  @ApiOkResponse({ type: OtpConfigResponseDto })
  get(@CurrentUser() me: UserPrincipal, @Param('id', UuidParam) id: string): Promise<OtpConfigResponseDto> {
    return this.configs.get(me, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Rename, relabel, activate or deactivate a configuration' })
  @ApiOkResponse({ type: OtpConfigResponseDto })
  update(
    @CurrentUser() me: UserPrincipal,
    @Param('id', UuidParam) id: string,
    @Body() dto: UpdateOtpConfigDto,
  ): Promise<OtpConfigResponseDto> {
    return this.configs.update(me, id, dto);
  }

  @Post(':id/secret')
  @HttpCode(200)
  @StepUp()
  @ApiOperation({
    summary: 'Replace the secret (generated, or supplied); the new one is in this answer only (needs a step-up)',
  })
  @ApiOkResponse({ type: CreatedOtpConfigDto })
  replaceSecret(
    @CurrentUser() me: UserPrincipal,
    @Param('id', UuidParam) id: string,
    @Body() dto: ReplaceSecretDto,
  ): Promise<CreatedOtpConfigDto> {
    return this.configs.replaceSecret(me, id, dto.secret);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a configuration (its events stay, for statistics)' })
  @ApiNoContentResponse()
  async delete(@CurrentUser() me: UserPrincipal, @Param('id', UuidParam) id: string): Promise<void> {
    await this.configs.delete(me, id);
  }

  @Get(':id/qr')
  @StepUp()
  @ApiOperation({
    summary:
      'Enrolment material: otpauth URI and QR code (PNG data URL; SVG with ?format=svg or Accept: image/svg+xml)',
    description: 'The URI carries the secret: the session must have stepped up (POST auth/step-up) within STEP_UP_TTL.',
  })
  @ApiProduces('application/json', 'image/svg+xml')
  @ApiOkResponse({ type: OtpQrDto })
  @ApiSecretUnreadableResponse()
  async qr(
    @CurrentUser() me: UserPrincipal,
    @Param('id', UuidParam) id: string,
    @Query() query: QrQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<OtpQrDto | string> {
    const wantsSvgImage = !query.format && /image\/svg\+xml/.test(accept ?? '');
    const answer = await this.configs.qr(me, id, wantsSvgImage ? 'svg' : (query.format ?? 'png'));
    if (!wantsSvgImage) return answer;
    void reply.type('image/svg+xml');
    return answer.qr_code;
  }

  @Post(':id/resync')
  @HttpCode(200)
  @RateLimit('otpValidate')
  @ApiOperation({ summary: 'HOTP: resynchronise the counter with two consecutive codes from the token' })
  @ApiOkResponse({ type: ResyncResultDto })
  @ApiLockedResponse('VALIDATION_LOCKED', 'too many failed validations')
  @ApiSecretUnreadableResponse()
  resync(
    @CurrentUser() me: UserPrincipal,
    @Param('id', UuidParam) id: string,
    @Body() dto: ResyncOtpDto,
  ): Promise<ResyncResultDto> {
    return this.codes.resync(me, id, dto.otp_codes);
  }
}
