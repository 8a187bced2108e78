import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { PageQueryDto } from '#src/common/pagination.dto.js';
import { OtpAlgorithmField, OtpDigitsField, OtpPeriodField } from '#src/common/otp-fields.js';
import { IsBase32Secret, OnlyWithOtpType } from '#src/common/validators.js';
import { MIN_PASSPHRASE_LENGTH } from '#src/otp-configs/transfer/encrypted-backup.js';
import { OTP_ALGORITHMS, type OtpAlgorithm } from '#src/otp/otp-engine.js';
import type { OtpType } from '#src/otp/otpauth-uri.js';
import { BooleanQuery } from '#src/common/query-transforms.js';

export const OTP_TYPES: readonly OtpType[] = ['totp', 'hotp'];
/** Counters stay within JavaScript's safe integers (the column is bigint). */
const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

const trimmed = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.trim() : value);

/** The parameters of an authenticator account, shared by creation and import. */
export class OtpParametersDto {
  @ApiProperty({ example: 'GitHub', description: 'Unique among your configurations (case-insensitive)' })
  @Transform(trimmed)
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name: string;

  @ApiPropertyOptional({ enum: OTP_TYPES, default: 'totp' })
  @IsOptional()
  @IsIn(OTP_TYPES)
  otp_type?: OtpType;

  @OtpAlgorithmField()
  algorithm?: OtpAlgorithm;

  @OtpDigitsField()
  digits?: number;

  @OtpPeriodField('TOTP step, seconds (TOTP only)')
  @OnlyWithOtpType('totp')
  interval?: number;

  @ApiPropertyOptional({ minimum: 0, default: 0, description: 'Counter of the next code (HOTP only)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_COUNTER)
  @OnlyWithOtpType('hotp')
  counter?: number;

  @ApiPropertyOptional({ example: 'GitHub', maxLength: 100 })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MaxLength(100)
  issuer?: string;

  @ApiPropertyOptional({ example: 'alice@example.com', maxLength: 100 })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MaxLength(100)
  account_name?: string;
}

export class CreateOtpConfigDto extends OtpParametersDto {
  @ApiPropertyOptional({
    description:
      'Base32 secret of an existing account (≥ 80 bits). Omit to generate one (20/32/64 bytes for SHA1/256/512).',
    example: 'JBSWY3DPEHPK3PXP',
  })
  @IsOptional()
  @IsBase32Secret()
  secret?: string;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  is_active?: boolean;
}

export class UpdateOtpConfigDto {
  @ApiPropertyOptional()
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name?: string;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MaxLength(100)
  issuer?: string;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MaxLength(100)
  account_name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  is_active?: boolean;
}

export class ReplaceSecretDto {
  @ApiPropertyOptional({ description: 'Base32 secret to use (≥ 80 bits); omit to generate a fresh one' })
  @IsOptional()
  @IsBase32Secret()
  secret?: string;
}

export class ListOtpConfigsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: OTP_TYPES })
  @IsOptional()
  @IsIn(OTP_TYPES)
  otp_type?: OtpType;

  @ApiPropertyOptional()
  @IsOptional()
  @BooleanQuery()
  @IsBoolean()
  is_active?: boolean;

  @ApiPropertyOptional({ description: 'Part of the name or issuer' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  search?: string;
}

export class OtpConfigResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: OTP_TYPES }) otp_type: OtpType;
  @ApiProperty({ enum: OTP_ALGORITHMS }) algorithm: OtpAlgorithm;
  @ApiProperty() digits: number;
  @ApiProperty({ nullable: true, type: Number, description: 'TOTP step, seconds' }) interval: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'HOTP: counter of the next code' }) counter: number | null;
  @ApiProperty({ nullable: true, type: String }) issuer: string | null;
  @ApiProperty({ nullable: true, type: String }) account_name: string | null;
  @ApiProperty() is_active: boolean;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'Validation locked until' })
  locked_until: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
}

export class CreatedOtpConfigDto extends OtpConfigResponseDto {
  @ApiProperty({ description: 'Base32 secret. Shown only now.' }) secret: string;
  @ApiProperty({ description: 'otpauth:// URI for authenticator apps' }) provisioning_uri: string;
}

export class OtpConfigPageDto {
  @ApiProperty({ type: [OtpConfigResponseDto] }) items: OtpConfigResponseDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}

export class QrQueryDto {
  @ApiPropertyOptional({ enum: ['png', 'svg'], default: 'png' })
  @IsOptional()
  @IsIn(['png', 'svg'])
  format?: 'png' | 'svg';
}

export class OtpQrDto {
  @ApiProperty() provisioning_uri: string;
  @ApiProperty({ enum: ['png', 'svg'] }) format: 'png' | 'svg';
  @ApiProperty({ description: 'PNG data URL, or SVG markup' }) qr_code: string;
}

export class ImportAccountDto extends OtpParametersDto {
  @ApiProperty({ example: 'JBSWY3DPEHPK3PXP', description: 'Base32 secret of the existing account (≥ 80 bits)' })
  @IsBase32Secret()
  secret: string;
}

export const MAX_IMPORT_ITEMS = 100;
/**
 * The longest export text, and base64 QR image, taken: the default BODY_LIMIT's worth (an Aegis
 * vault with icons is the largest text; a PNG screenshot of a QR code is well under 700 KB).
 */
export const MAX_IMPORT_CONTENT = 1_000_000;
export const MAX_IMPORT_IMAGE = 1_000_000;

export const IMPORT_FORMATS = ['otpauth', 'google', 'aegis', '2fauth', 'encrypted'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export class ImportOtpConfigsDto {
  @ApiPropertyOptional({ type: [ImportAccountDto], maxItems: MAX_IMPORT_ITEMS })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_IMPORT_ITEMS)
  @ValidateNested({ each: true })
  @Type(() => ImportAccountDto)
  accounts?: ImportAccountDto[];

  @ApiPropertyOptional({
    type: [String],
    maxItems: MAX_IMPORT_ITEMS,
    example: ['otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_IMPORT_ITEMS)
  @IsString({ each: true })
  @MaxLength(2048, { each: true })
  uris?: string[];

  @ApiPropertyOptional({
    enum: IMPORT_FORMATS,
    description:
      'The export `content`, `image` or `backup` holds: `otpauth` (otpauth:// URIs, one per line), `google` ' +
      '(Google Authenticator otpauth-migration:// URIs, one per line), `aegis` (plain Aegis vault JSON), `2fauth` ' +
      "(2FAuth JSON), `encrypted` (this service's backup, with `passphrase`; see docs/backup-format.md)",
  })
  @IsOptional()
  @IsIn(IMPORT_FORMATS)
  format?: ImportFormat;

  @ApiPropertyOptional({
    maxLength: MAX_IMPORT_CONTENT,
    description: "The export file's text (formats otpauth, google, aegis, 2fauth)",
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_IMPORT_CONTENT)
  content?: string;

  @ApiPropertyOptional({
    maxLength: MAX_IMPORT_IMAGE,
    description: "A PNG image of the export's QR code, base64 or a data: URL (formats google and otpauth)",
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_IMPORT_IMAGE)
  image?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'The backup file POST otp/configs/export answered, as JSON (format encrypted)',
  })
  @IsOptional()
  @IsObject()
  backup?: Record<string, unknown>;

  @ApiPropertyOptional({ maxLength: 1024, description: "The backup's passphrase (format encrypted)" })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  passphrase?: string;

  @ApiPropertyOptional({ default: false, description: 'Answer what would be imported, and write nothing' })
  @IsOptional()
  @IsBoolean()
  dry_run?: boolean;
}

export const IMPORT_SOURCES = ['account', 'uri', ...IMPORT_FORMATS] as const;
export type ImportSource = (typeof IMPORT_SOURCES)[number];

@ApiSchema({ name: 'OtpConfigImportItemResultDto' })
export class ImportItemResultDto {
  @ApiProperty({ description: "Position within its source (accounts, uris, or the export's list of accounts)" })
  index: number;
  @ApiProperty({ enum: IMPORT_SOURCES, description: 'accounts, uris, or the import format the item came from' })
  source: ImportSource;
  @ApiProperty({ enum: ['imported', 'duplicate', 'invalid'] }) status: 'imported' | 'duplicate' | 'invalid';
  @ApiPropertyOptional({ format: 'uuid' }) config_id?: string;
  @ApiPropertyOptional() name?: string;
  @ApiPropertyOptional({ description: 'Why the item was not imported' }) message?: string;
}

export class ImportResultDto {
  @ApiProperty({ description: 'True when nothing was written: the results say what would have been' })
  dry_run: boolean;
  @ApiProperty() imported: number;
  @ApiProperty() duplicates: number;
  @ApiProperty() invalid: number;
  @ApiProperty({ type: [ImportItemResultDto] }) results: ImportItemResultDto[];
}

export const EXPORT_FORMATS = ['otpauth', 'encrypted'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export class ExportOtpConfigsDto {
  @ApiProperty({
    enum: EXPORT_FORMATS,
    description: '`otpauth`: a list of otpauth:// URIs; `encrypted`: a backup file encrypted with `passphrase`',
  })
  @IsIn(EXPORT_FORMATS)
  format: ExportFormat;

  @ApiPropertyOptional({
    minLength: MIN_PASSPHRASE_LENGTH,
    maxLength: 1024,
    description: 'Format encrypted: the passphrase the backup is encrypted with (needed again to import it)',
  })
  @ValidateIf((dto: ExportOtpConfigsDto) => dto.format === 'encrypted' || dto.passphrase !== undefined)
  @IsDefined({ message: 'passphrase is required for format encrypted' })
  @IsString()
  @MinLength(MIN_PASSPHRASE_LENGTH)
  @MaxLength(1024)
  passphrase?: string;
}

export class BackupKdfDto {
  @ApiProperty({ enum: ['scrypt'] }) name: 'scrypt';
  @ApiProperty({ description: 'base64, 16 bytes' }) salt: string;
  @ApiProperty({ example: 32768 }) N: number;
  @ApiProperty({ example: 8 }) r: number;
  @ApiProperty({ example: 1 }) p: number;
}

export class BackupCipherDto {
  @ApiProperty({ enum: ['aes-256-gcm'] }) name: 'aes-256-gcm';
  @ApiProperty({ description: 'base64, 12 bytes' }) iv: string;
  @ApiProperty({ description: 'base64, the 16-byte GCM tag' }) tag: string;
}

/** The encrypted backup file (docs/backup-format.md). */
export class BackupFileDto {
  @ApiProperty({ enum: ['otp-service-backup'] }) format: 'otp-service-backup';
  @ApiProperty({ enum: [1] }) version: 1;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ type: BackupKdfDto }) kdf: BackupKdfDto;
  @ApiProperty({ type: BackupCipherDto }) cipher: BackupCipherDto;
  @ApiProperty({ description: 'base64 AES-256-GCM ciphertext of the JSON list of accounts' }) data: string;
}

export class ExportResultDto {
  @ApiProperty({ enum: EXPORT_FORMATS }) format: ExportFormat;
  @ApiProperty({ description: 'Accounts exported' }) count: number;
  @ApiPropertyOptional({ type: [String], description: 'Format otpauth: one otpauth:// URI per account' })
  uris?: string[];
  @ApiPropertyOptional({ type: BackupFileDto, description: 'Format encrypted: the backup file, to save as JSON' })
  backup?: BackupFileDto;
}
