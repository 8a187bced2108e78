import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiSchema, getSchemaPath } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsDate,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  MinLength,
  registerDecorator,
  ValidateIf,
  ValidationOptions,
} from 'class-validator';
import { PageQueryDto } from '#src/common/pagination.dto.js';
import {
  MAX_DIGITS,
  MAX_PERIOD,
  MIN_DIGITS,
  MIN_PERIOD,
  OTP_ALGORITHMS,
  type OtpAlgorithm,
} from '#src/otp/otp-engine.js';
import { USAGE_KEY_OUTCOMES, type UsageKeyOutcome } from '../usage-key-event.entity.js';
import { OtpAlgorithmField, OtpDigitsField, OtpPeriodField } from '#src/common/otp-fields.js';
import { InTimestampRange, INT4_MAX, IsBase32Secret, MaxKeys } from '#src/common/validators.js';
import { KEY_NAME_MAX_LENGTH, KEY_NAME_PATTERN } from '../usage-key-rules.js';

/** `max_uses`: -1 (unlimited) or a whole number from 1 to 2147483647 (the column is an integer). */
export function IsMaxUses(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isMaxUses',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) =>
          Number.isSafeInteger(value) &&
          ((value as number) === -1 || ((value as number) >= 1 && (value as number) <= INT4_MAX)),
        defaultMessage: (args) => `${args?.property} must be -1 (unlimited) or a whole number from 1 to ${INT4_MAX}`,
      },
    });
  };
}

/** A key name as it appears in the reference file and in URLs. */
export const IsKeyName = (): PropertyDecorator =>
  applyDecorators(
    IsString(),
    MinLength(1),
    MaxLength(KEY_NAME_MAX_LENGTH),
    Matches(KEY_NAME_PATTERN, { message: 'key name may contain letters, digits, dot, dash, underscore, colon and @' }),
  );

/** The `client_id` rule of API keys: 1-100 letters, digits, dot, dash, underscore. */
const IsClientId = (): PropertyDecorator =>
  applyDecorators(
    IsString(),
    Matches(/^[A-Za-z0-9._-]{1,100}$/, { message: 'client_id may contain letters, digits, dot, dash and underscore' }),
  );

/** People an admin-space key is handed to; at most this many per key. */
export const MAX_ASSIGNEES = 100;

const AssignedUserIdsField = (description: string): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({
      type: [String],
      format: 'uuid',
      maxItems: MAX_ASSIGNEES,
      example: ['5f0c3c52-7c1e-4a39-9d0b-2f6b7d1c9a10'],
      description,
    }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(MAX_ASSIGNEES),
    ArrayUnique(),
    IsUUID('all', { each: true, message: 'each assigned user id must be a uuid' }),
  );

const OWNER_DESCRIPTION =
  'Administrators: the API client whose key this is (omit for the admin space). ' +
  "An API key may name only its own client; another client's keys answer as unknown names.";

/** `?client_id=`: which owner's key an admin route addresses. */
export class KeyOwnerQueryDto {
  @ApiPropertyOptional({ example: 'acme', description: OWNER_DESCRIPTION })
  @IsOptional()
  @IsClientId()
  client_id?: string;
}

export class CreateUsageKeyDto {
  @ApiProperty({ example: 'deploy-approval', description: 'Unique name the key is addressed by (case-sensitive)' })
  @IsKeyName()
  name: string;

  @ApiPropertyOptional({
    example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
    description: 'Import an existing base32 secret (at least 80 bits); generated (160+ bits) when omitted',
  })
  @IsOptional()
  @IsBase32Secret()
  secret?: string;

  @ApiPropertyOptional({
    default: 1,
    maximum: INT4_MAX,
    example: 5,
    description: 'Codes the key may yield; -1 = unlimited',
  })
  @IsOptional()
  @IsMaxUses()
  max_uses?: number;

  @ApiPropertyOptional({ format: 'date-time', description: 'After this the key yields no codes (temporary access)' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  @InTimestampRange()
  expires_at?: Date;

  @OtpAlgorithmField()
  algorithm?: OtpAlgorithm;

  @OtpDigitsField()
  digits?: number;

  @OtpPeriodField('TOTP period, seconds')
  period?: number;

  @AssignedUserIdsField(
    'Administrators: people (user ids) who may use this admin-space key (code, validate, info). ' +
      "Not for an API client's keys.",
  )
  assigned_user_ids?: string[];
}

export class UpdateUsageKeyDto {
  @ApiPropertyOptional({ example: 10, maximum: INT4_MAX, description: 'New limit; -1 = unlimited. The count is kept.' })
  @IsOptional()
  @IsMaxUses()
  max_uses?: number;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'New expiry; null removes it',
  })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @Type(() => Date)
  @IsDate()
  @InTimestampRange()
  expires_at?: Date | null;

  @AssignedUserIdsField('Administrators: the new list of people who may use this admin-space key ([] assigns nobody)')
  assigned_user_ids?: string[];
}

export class KeyNameDto {
  @ApiProperty({ example: 'deploy-approval', description: 'The key name' })
  @IsKeyName()
  key: string;
}

export class ListUsageKeysQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ['active', 'depleted', 'expired'], description: 'Only keys in this state' })
  @IsOptional()
  @IsIn(['active', 'depleted', 'expired'])
  status?: UsageKeyStatus;

  @ApiPropertyOptional({
    example: 'acme',
    description: "Only this API client's keys (an API key sees its own client's keys whatever this says)",
  })
  @IsOptional()
  @IsClientId()
  client_id?: string;

  @ApiPropertyOptional({
    enum: ['admin', 'client'],
    example: 'admin',
    description: "Only admin-space keys (`admin`) or only API clients' keys (`client`)",
  })
  @IsOptional()
  @IsIn(['admin', 'client'])
  space?: 'admin' | 'client';
}

/** `GET keys/:name/usage`: a page, and the owner as on every admin route. */
export class KeyUsageQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'acme', description: OWNER_DESCRIPTION })
  @IsOptional()
  @IsClientId()
  client_id?: string;
}

export type UsageKeyStatus = 'active' | 'depleted' | 'expired';

export class UsageInfoDto {
  @ApiProperty({ example: 5, description: '-1 = unlimited' }) max_uses: number;
  @ApiProperty({ example: 2 }) usage_count: number;
  @ApiProperty({
    oneOf: [{ type: 'integer' }, { type: 'string', enum: ['unlimited'] }],
    example: 3,
    description: 'Uses left, or "unlimited"',
  })
  remaining_uses: number | 'unlimited';
}

export class UsageKeyResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'acme',
    description: 'The owner: the API client that made the key, or null for the admin space',
  })
  client_id: string | null;
  @ApiProperty({
    type: [String],
    format: 'uuid',
    example: ['5f0c3c52-7c1e-4a39-9d0b-2f6b7d1c9a10'],
    description: 'People who may use this admin-space key (always empty for a client key)',
  })
  assigned_user_ids: string[];
  @ApiProperty({ enum: OTP_ALGORITHMS }) algorithm: OtpAlgorithm;
  @ApiProperty() digits: number;
  @ApiProperty({ description: 'TOTP period, seconds' }) period: number;
  @ApiProperty({ description: '-1 = unlimited' }) max_uses: number;
  @ApiProperty() usage_count: number;
  @ApiProperty({ oneOf: [{ type: 'integer' }, { type: 'string', enum: ['unlimited'] }] })
  remaining_uses: number | 'unlimited';
  @ApiProperty({ enum: ['active', 'depleted', 'expired'] }) status: UsageKeyStatus;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) expires_at: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) last_used: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
}

export class CreatedUsageKeyDto extends UsageKeyResponseDto {
  @ApiProperty({ description: 'The base32 secret. Shown only now: store it safely.' })
  secret: string;
}

export class UsageKeyPageDto {
  @ApiProperty({ type: [UsageKeyResponseDto] }) items: UsageKeyResponseDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}

export class KeyCodeResponseDto {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ example: 'deploy-approval' }) key: string;
  @ApiProperty({ example: '028364', description: 'The current TOTP code (a string: leading zeros matter)' })
  code: string;
  @ApiProperty({ example: 17, description: 'Seconds until the code rolls over' }) remaining_seconds: number;
  @ApiProperty({ type: UsageInfoDto }) usage_info: UsageInfoDto;
}

export class KeyValidateResponseDto {
  @ApiProperty({ example: 'deploy-approval' }) key: string;
  @ApiProperty({ description: 'True when the key would yield a code now' }) valid: boolean;
  @ApiProperty({ enum: ['active', 'depleted', 'expired'] }) status: UsageKeyStatus;
  @ApiProperty({ type: UsageInfoDto }) usage_info: UsageInfoDto;
}

export class KeyInfoResponseDto {
  @ApiProperty({ example: 'deploy-approval' }) key: string;
  @ApiProperty() exists: boolean;
  @ApiPropertyOptional({ description: '-1 = unlimited' }) max_uses?: number;
  @ApiPropertyOptional() usage_count?: number;
  @ApiPropertyOptional({ oneOf: [{ type: 'integer' }, { type: 'string', enum: ['unlimited'] }] })
  remaining_uses?: number | 'unlimited';
  @ApiPropertyOptional({ description: 'True when the key would yield a code now' }) is_valid?: boolean;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'date-time' }) last_used?: string | null;
  @ApiPropertyOptional({ format: 'date-time' }) created_at?: string;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'date-time' }) expires_at?: string | null;
}

export class UsageKeyEventDto {
  @ApiProperty() id: string;
  @ApiProperty({ enum: USAGE_KEY_OUTCOMES }) outcome: UsageKeyOutcome;
  @ApiProperty({ enum: ['user', 'api_key', 'system', 'anonymous'] }) actor_type: string;
  @ApiProperty({ nullable: true, type: String }) actor_id: string | null;
  @ApiProperty({ description: 'usage_count after the event' }) usage_count: number;
  @ApiProperty({ nullable: true, type: String }) ip: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

export class UsageKeyEventPageDto {
  @ApiProperty({ type: [UsageKeyEventDto] }) items: UsageKeyEventDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}

const REFERENCE_TIME =
  "ISO 8601; without a zone (the reference writer's `2025-01-15T10:30:00.123456`) it is read as UTC";

/**
 * One entry of the reference key file. Documented, not enforced by the schema: each entry
 * is checked on its own and an invalid one is reported in the results, not refused.
 */
@ApiSchema({ name: 'UsageKeyImportEntryDto' })
export class UsageKeyImportEntryDto {
  @ApiProperty({ example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', description: 'Base32 secret' }) secret: string;
  @ApiPropertyOptional({ default: 1, example: 5, maximum: INT4_MAX, description: '-1 = unlimited' }) max_uses?: number;
  @ApiPropertyOptional({ default: 0, example: 2, minimum: 0, maximum: INT4_MAX }) usage_count?: number;
  @ApiPropertyOptional({ type: String, nullable: true, description: REFERENCE_TIME }) created_at?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: REFERENCE_TIME }) last_used?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: REFERENCE_TIME }) expires_at?: string | null;
  @ApiPropertyOptional({ enum: OTP_ALGORITHMS, default: 'sha1' }) algorithm?: OtpAlgorithm;
  @ApiPropertyOptional({ default: 6, minimum: MIN_DIGITS, maximum: MAX_DIGITS }) digits?: number;
  @ApiPropertyOptional({ default: 30, minimum: MIN_PERIOD, maximum: MAX_PERIOD }) period?: number;
}

@ApiExtraModels(UsageKeyImportEntryDto)
export class ImportUsageKeysDto {
  @ApiProperty({
    description:
      'The reference key file: `{"NAME": {"secret", "max_uses", "usage_count", "created_at", "last_used"}}`. ' +
      'Each entry is checked on its own; invalid entries are reported and skipped.',
    example: {
      'deploy-approval': {
        secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
        max_uses: 5,
        usage_count: 2,
        created_at: '2025-01-15T10:30:00.000000',
        last_used: '2025-01-16T08:00:00.000000',
      },
    },
    type: 'object',
    additionalProperties: { $ref: getSchemaPath(UsageKeyImportEntryDto) },
    maxProperties: 10_000,
  })
  @IsObject()
  @MaxKeys(10_000) // MAX_IMPORT_ENTRIES
  keys: Record<string, unknown>;

  @ApiPropertyOptional({ default: false, description: 'Check and report only; write nothing' })
  @IsOptional()
  @IsBoolean()
  dry_run?: boolean;

  @ApiPropertyOptional({
    default: false,
    description: 'Overwrite keys that already exist (otherwise they are skipped)',
  })
  @IsOptional()
  @IsBoolean()
  replace?: boolean;
}

export type ImportItemStatus = 'created' | 'replaced' | 'skipped' | 'invalid';

@ApiSchema({ name: 'UsageKeyImportItemResultDto' })
export class ImportItemResultDto {
  @ApiProperty() name: string;
  @ApiProperty({
    enum: ['created', 'replaced', 'skipped', 'invalid'],
    description: 'In a dry run, what would happen',
  })
  status: ImportItemStatus;
  @ApiPropertyOptional({ type: [String], description: 'Why the entry is invalid or skipped' })
  errors?: string[];
}

export class ImportUsageKeysResultDto {
  @ApiProperty() dry_run: boolean;
  @ApiProperty() created: number;
  @ApiProperty() replaced: number;
  @ApiProperty() skipped: number;
  @ApiProperty() invalid: number;
  @ApiProperty({ type: [ImportItemResultDto] }) results: ImportItemResultDto[];
}
