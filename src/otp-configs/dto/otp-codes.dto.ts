import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsUUID,
  Max,
  Min,
} from 'class-validator';
import { IsOtpCode } from '#src/common/validators.js';
import { OTP_TYPES } from './otp-config.dto.js';
import type { OtpType } from '#src/otp/otpauth-uri.js';

export class GenerateOtpDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  config_id: string;

  @ApiPropertyOptional({
    default: false,
    description: 'HOTP: consume the counter (atomically) and answer next_counter',
  })
  @IsOptional()
  @IsBoolean()
  counter_increment?: boolean;
}

export class GeneratedOtpDto {
  @ApiProperty({ format: 'uuid' }) config_id: string;
  @ApiProperty({ enum: OTP_TYPES }) otp_type: OtpType;
  @ApiProperty({ example: '028476', description: 'Always a string: leading zeros matter' }) code: string;
  @ApiPropertyOptional({ description: 'TOTP: seconds until the code changes' }) remaining_seconds?: number;
  @ApiPropertyOptional({ description: 'TOTP step, seconds' }) interval?: number;
  @ApiPropertyOptional({ description: 'HOTP: the counter this code is for' }) counter?: number;
  @ApiPropertyOptional({ description: 'HOTP with counter_increment: the counter now stored' }) next_counter?: number;
  @ApiProperty({ format: 'date-time' }) generated_at: string;
}

export class ValidateOtpDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  config_id: string;

  @ApiProperty({ example: '028476' })
  @IsOtpCode()
  otp_code: string;
}

export class ValidationResultDto {
  @ApiProperty() is_valid: boolean;
  @ApiProperty({ format: 'uuid' }) config_id: string;
  @ApiProperty() message: string;
  @ApiPropertyOptional({ description: 'Steps (TOTP) or counters (HOTP) away from the expected one' }) drift?: number;
}

export class ResyncOtpDto {
  @ApiProperty({
    type: [String],
    minItems: 2,
    maxItems: 2,
    example: ['755224', '287082'],
    description: 'Two consecutive codes from the token',
  })
  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(2)
  @IsOtpCode({ each: true })
  otp_codes: [string, string];
}

export class ResyncResultDto {
  @ApiProperty() resynchronized: boolean;
  @ApiProperty({ format: 'uuid' }) config_id: string;
  @ApiProperty({ description: 'The counter of the next code' }) next_counter: number;
}

export class BulkGenerateDto {
  @ApiProperty({ type: [String], maxItems: 100 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ArrayUnique()
  @IsUUID('all', { each: true })
  config_ids: string[];
}

export class BulkItemDto {
  @ApiProperty({ format: 'uuid' }) config_id: string;
  @ApiPropertyOptional() code?: string;
  @ApiPropertyOptional() remaining_seconds?: number;
  @ApiPropertyOptional() counter?: number;
  @ApiPropertyOptional({ enum: ['CONFIG_NOT_FOUND', 'CONFIG_INACTIVE'] }) error?:
    'CONFIG_NOT_FOUND' | 'CONFIG_INACTIVE';
}

export class BulkGenerateResultDto {
  @ApiProperty({ type: [BulkItemDto] }) results: BulkItemDto[];
  @ApiProperty({ format: 'date-time' }) generated_at: string;
}

export class LiveCodeDto {
  @ApiProperty({ format: 'uuid' }) config_id: string;
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) issuer: string | null;
  @ApiProperty({ nullable: true, type: String }) account_name: string | null;
  @ApiProperty() code: string;
  @ApiProperty() remaining_seconds: number;
  @ApiProperty() interval: number;
  @ApiProperty() digits: number;
}

export class LiveCodesDto {
  @ApiProperty({ type: [LiveCodeDto] }) items: LiveCodeDto[];
  @ApiProperty({ format: 'date-time' }) generated_at: string;
}

export class RecentEventsQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;
}

export class OtpEventDto {
  @ApiProperty() id: string;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) config_id: string | null;
  @ApiProperty({ nullable: true, type: String }) config_name: string | null;
  @ApiProperty({ enum: ['generate', 'validate_success', 'validate_failure'] }) event_type: string;
  @ApiProperty({ nullable: true, type: Number }) drift: number | null;
  @ApiProperty({ nullable: true, type: String }) ip: string | null;
  @ApiProperty({ nullable: true, type: String }) user_agent: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

export class OtpStatsDto {
  @ApiProperty() total_configs: number;
  @ApiProperty() active_configs: number;
  @ApiProperty() total_generations: number;
  @ApiProperty() total_validations: number;
  @ApiProperty() successful_validations: number;
}

export class DailyOtpStatsDto {
  @ApiProperty({ example: '2026-03-01' }) date: string;
  @ApiProperty() generations: number;
  @ApiProperty() validations: number;
  @ApiProperty() successful_validations: number;
}

export class EnhancedOtpStatsDto extends OtpStatsDto {
  @ApiProperty({ nullable: true, type: Number, description: 'Successful / all validations, 0..1; null without any' })
  success_rate: number | null;
  @ApiProperty({ type: [DailyOtpStatsDto], description: 'The last 7 days (UTC), oldest first' })
  last_7_days: DailyOtpStatsDto[];
}
