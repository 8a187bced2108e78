import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { LoginDto } from '#src/auth/dto/auth.dto.js';
import { IsOtpCode, IsPresentedPassword, INT4_MAX } from '#src/common/validators.js';
import { MAX_PAGE_SIZE } from '#src/common/pagination.dto.js';
import { DailyUsageDto } from '#src/metrics/dto/metrics.dto.js';
import { DailyOtpStatsDto, OtpStatsDto } from '#src/otp-configs/dto/otp-codes.dto.js';
import { OTP_TYPES } from '#src/otp-configs/dto/otp-config.dto.js';
import type { OtpAlgorithm } from '#src/otp/otp-engine.js';
import type { OtpType } from '#src/otp/otpauth-uri.js';

const PERCENT = 'Percent of validations that succeeded (two decimals); null without any';

/** The replaced system's integer ids (see IntegerIdsRepository). */
const IntegerId = (description: string): PropertyDecorator =>
  applyDecorators(
    ApiProperty({ type: 'integer', minimum: 1, example: 1, description }),
    IsInt(),
    Min(1),
    Max(INT4_MAX),
  );

/**
 * OAuth2's password request (FastAPI's OAuth2PasswordRequestForm), form-encoded or JSON,
 * plus the system's optional `mfa_code`. The OAuth2 fields are accepted and ignored.
 */
export class TokenRequestDto extends LoginDto {
  @ApiPropertyOptional({ enum: ['password'] })
  @IsOptional()
  @IsIn(['password'])
  grant_type?: 'password';

  @ApiPropertyOptional({ description: 'Ignored (the token carries the account, not scopes)' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  scope?: string;

  @ApiPropertyOptional({ description: 'Ignored' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  client_id?: string;

  @ApiPropertyOptional({ description: 'Ignored' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  client_secret?: string;
}

export class BearerTokenDto {
  @ApiProperty() access_token: string;
  @ApiProperty({ enum: ['bearer'] }) token_type: 'bearer';
  @ApiProperty({ description: 'Rotating refresh token (POST /api/v1/auth/refresh)' }) refresh_token: string;
  @ApiProperty({ description: 'Access token lifetime, seconds', example: 900 }) expires_in: number;
}

export class MicroserviceUserDto {
  @ApiProperty({ type: 'integer', example: 1 }) id: number;
  @ApiProperty() username: string;
  @ApiProperty() email: string;
  @ApiProperty() is_active: boolean;
  @ApiProperty() is_admin: boolean;
  @ApiProperty() mfa_enabled: boolean;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

export class SkipLimitQueryDto {
  @ApiPropertyOptional({ minimum: 0, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(INT4_MAX)
  skip: number = 0;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: MAX_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit: number = MAX_PAGE_SIZE;
}

export class MicroserviceOtpConfigDto {
  @ApiProperty({ type: 'integer', example: 1, description: 'Counts per owner' }) id: number;
  @ApiProperty() name: string;
  @ApiProperty({ enum: OTP_TYPES }) otp_type: OtpType;
  @ApiProperty() algorithm: OtpAlgorithm;
  @ApiProperty() digits: number;
  @ApiProperty({ nullable: true, type: Number }) interval: number | null;
  @ApiProperty({ nullable: true, type: Number }) counter: number | null;
  @ApiProperty({ nullable: true, type: String }) issuer: string | null;
  @ApiProperty({ nullable: true, type: String }) account_name: string | null;
  @ApiProperty() is_active: boolean;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
}

export class CreatedMicroserviceOtpConfigDto extends MicroserviceOtpConfigDto {
  @ApiProperty({ description: 'Base32 secret; shown only now' }) secret: string;
  @ApiProperty() provisioning_uri: string;
}

export class MicroserviceGenerateDto {
  @IntegerId('Your configuration')
  config_id: number;

  @ApiPropertyOptional({ default: false, description: 'HOTP: consume the counter' })
  @IsOptional()
  @IsBoolean()
  counter_increment?: boolean;
}

export class MicroserviceGeneratedDto {
  @ApiProperty({ example: '028476' }) otp_code: string;
  @ApiProperty({ type: 'integer' }) config_id: number;
  @ApiProperty({ enum: OTP_TYPES }) otp_type: OtpType;
  @ApiPropertyOptional() remaining_seconds?: number;
  @ApiPropertyOptional() interval?: number;
  @ApiPropertyOptional() counter?: number;
  @ApiPropertyOptional() next_counter?: number;
  @ApiProperty({ format: 'date-time' }) generated_at: string;
}

export class MicroserviceValidateDto {
  @IntegerId('Your configuration')
  config_id: number;

  @ApiProperty({ example: '028476' })
  @IsOtpCode()
  otp_code: string;
}

export class MicroserviceValidationDto {
  @ApiProperty() is_valid: boolean;
  @ApiProperty({ type: 'integer' }) config_id: number;
  @ApiProperty() message: string;
  @ApiPropertyOptional() drift?: number;
}

export class MicroserviceBulkItemDto {
  @ApiProperty({ type: 'integer' }) config_id: number;
  @ApiPropertyOptional() otp_code?: string;
  @ApiPropertyOptional() remaining_seconds?: number;
  @ApiPropertyOptional() counter?: number;
  @ApiPropertyOptional({ enum: ['CONFIG_NOT_FOUND', 'CONFIG_INACTIVE'] }) error?: string;
}

export class MicroserviceBulkDto {
  @ApiProperty({ type: [MicroserviceBulkItemDto] }) results: MicroserviceBulkItemDto[];
  @ApiProperty({ format: 'date-time' }) generated_at: string;
}

export class MicroserviceEventDto {
  @ApiProperty() id: string;
  @ApiProperty({ nullable: true, type: 'integer' }) config_id: number | null;
  @ApiProperty({ nullable: true, type: String }) config_name: string | null;
  @ApiProperty() event_type: string;
  @ApiProperty({ nullable: true, type: Number }) drift: number | null;
  @ApiProperty({ nullable: true, type: String }) ip_address: string | null;
  @ApiProperty({ nullable: true, type: String }) user_agent: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

export class MicroserviceMfaVerifyDto {
  @ApiProperty({ example: '123456' })
  @IsOtpCode()
  mfa_code: string;
}

export class MicroserviceMfaDisableDto {
  @ApiProperty()
  @IsPresentedPassword()
  password: string;

  @ApiProperty({ example: '123456', description: 'A current TOTP code or a recovery code' })
  @IsString()
  @Matches(/^(\d{6,8}|[A-Za-z2-7]{5}-?[A-Za-z2-7]{5})$/, {
    message: 'mfa_code must be a 6–8 digit code or a recovery code',
  })
  mfa_code: string;
}

export class MessageDto {
  @ApiProperty() message: string;
}

export class MicroserviceAuditLogDto {
  @ApiProperty({ type: 'integer' }) id: number;
  @ApiProperty({ format: 'date-time' }) timestamp: string;
  @ApiProperty({ nullable: true, type: 'integer', description: 'The acting user, when it has a number' })
  user_id: number | null;
  @ApiProperty() actor_type: string;
  @ApiProperty({ nullable: true, type: String }) actor_id: string | null;
  @ApiProperty() action: string;
  @ApiProperty({ nullable: true, type: String }) resource_type: string | null;
  @ApiProperty({ nullable: true, type: String }) resource_id: string | null;
  @ApiProperty() status: string;
  @ApiProperty({ nullable: true, type: String }) ip_address: string | null;
  @ApiProperty({ nullable: true, type: String }) user_agent: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) details: Record<string, unknown>;
}

export class MicroserviceSystemMetricsDto {
  @ApiProperty() total_users: number;
  @ApiProperty() active_users: number;
  @ApiProperty() total_otp_configs: number;
  @ApiProperty() active_otp_configs: number;
  @ApiProperty({ example: { totp: 10, hotp: 2 }, type: 'object', additionalProperties: { type: 'integer' } })
  otp_configs_by_type: Record<string, number>;
  @ApiProperty() total_generations: number;
  @ApiProperty() total_validations: number;
  @ApiProperty() successful_validations: number;
  @ApiProperty() failed_validations: number;
  @ApiProperty({ nullable: true, type: Number, description: PERCENT, example: 87.5 })
  success_rate: number | null;
  @ApiProperty() logins_24h: number;
  @ApiProperty() failed_logins_24h: number;
  @ApiProperty() mfa_enabled_users: number;
  @ApiProperty() locked_accounts: number;
  @ApiProperty({ format: 'date-time' }) generated_at: string;
}

export class MicroserviceEnhancedStatsDto extends OtpStatsDto {
  @ApiProperty() failed_validations: number;
  @ApiProperty({ nullable: true, type: Number, description: PERCENT, example: 87.5 }) success_rate: number | null;
  @ApiProperty({ type: [DailyOtpStatsDto], description: 'The last 7 days (UTC), oldest first' })
  last_7_days: DailyOtpStatsDto[];
}

export class MicroserviceUserMetricsDto extends OtpStatsDto {
  @ApiProperty() failed_validations: number;
  @ApiProperty({ nullable: true, type: Number, description: PERCENT, example: 87.5 }) success_rate: number | null;
  @ApiProperty({ type: [DailyUsageDto], description: 'The last 7 UTC days, today included, oldest first' })
  last_7_days: DailyUsageDto[];
}
