import { HttpStatus, PipeTransform } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  registerDecorator,
  ValidateIf,
  ValidationOptions,
} from 'class-validator';
import { PageQueryDto } from '#src/common/pagination.dto.js';
import { ProblemException } from '#src/common/problem.js';
import { BooleanQuery } from '#src/common/query-transforms.js';

/** Names a client gives its devices and end-users: 1–128 URL-safe characters. */
export const CLIENT_NAME_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;
const CLIENT_NAME_MESSAGE = (field: string): string =>
  `${field} must be 1 to 128 characters of letters, digits, dot, dash, underscore, colon or @`;

const IsClientName = (field: string): PropertyDecorator => {
  const decorators = [IsString(), Matches(CLIENT_NAME_PATTERN, { message: CLIENT_NAME_MESSAGE(field) })];
  return (target, key) => decorators.forEach((decorate) => decorate(target, key));
};

/** The property must be absent when `other` is given (one of the two, not both). */
function IsAbsentWith(other: string, options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isAbsentWith',
      target: target.constructor,
      propertyName: propertyName as string,
      constraints: [other],
      options,
      validator: {
        validate: (value: unknown, args) =>
          value === undefined || (args?.object as Record<string, unknown>)[other] === undefined,
        defaultMessage: (args) => `give ${other} or ${args?.property}, not both`,
      },
    });
  };
}

/** `@Param('device_id', DeviceIdParam)`: a malformed id is a 400 with the usual problem shape. */
export const DeviceIdParam: PipeTransform<string, string> = {
  transform(value: string): string {
    if (typeof value === 'string' && CLIENT_NAME_PATTERN.test(value)) return value;
    const message = CLIENT_NAME_MESSAGE('device_id');
    throw new ProblemException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', message, {
      errors: [{ field: 'device_id', messages: [message] }],
    });
  },
};

export class RegisterDeviceDto {
  @ApiProperty({ example: 'phone-7f3a', description: "The client's id for the device, unique per client" })
  @IsClientName('device_id')
  device_id: string;

  @ApiProperty({ example: 'user-42', description: "The client's id for the device's end-user" })
  @IsClientName('user_id')
  user_id: string;

  @ApiPropertyOptional({ example: "Alice's phone", maxLength: 100 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  label?: string;
}

export class VerifyDeviceDto {
  @ApiPropertyOptional({ example: 'phone-7f3a', description: 'The device whose code this is (or give user_id)' })
  @ValidateIf((dto: VerifyDeviceDto) => dto.user_id === undefined || dto.device_id !== undefined)
  @IsClientName('device_id')
  device_id?: string;

  @ApiPropertyOptional({
    example: 'user-42',
    description: "Try the end-user's active devices (at most 10, most recently used first) instead of one device",
  })
  @ValidateIf((dto: VerifyDeviceDto) => dto.user_id !== undefined)
  @IsClientName('user_id')
  @IsAbsentWith('device_id')
  user_id?: string;

  @ApiProperty({ example: '287082', description: 'The 6-digit code the device shows' })
  @IsString()
  @Matches(/^\d{6}$/, { message: 'otp must be 6 digits' })
  otp: string;
}

export class ListDevicesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only the devices of this end-user' })
  @IsOptional()
  @IsClientName('user_id')
  user_id?: string;

  @ApiPropertyOptional({ description: 'Only active (true) or deactivated (false) devices' })
  @IsOptional()
  @BooleanQuery()
  @IsBoolean()
  active?: boolean;

  @ApiPropertyOptional({ description: 'Only devices verified at least once (true) or never (false)' })
  @IsOptional()
  @BooleanQuery()
  @IsBoolean()
  verified?: boolean;
}

export class DeviceResponseDto {
  @ApiProperty() device_id: string;
  @ApiProperty() user_id: string;
  @ApiProperty({ nullable: true, type: String }) label: string | null;
  @ApiProperty({ description: 'Master secret version the key is derived from' }) key_version: number;
  @ApiProperty() is_active: boolean;
  @ApiProperty({ description: 'Verified successfully at least once (with its current key)' }) verified: boolean;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) verified_at: string | null;
  @ApiProperty({ description: 'Successful verifications' }) usage_count: number;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) last_used_at: string | null;
  @ApiProperty({ description: 'Too many failed verifications: refused until locked_until' }) locked: boolean;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) locked_until: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) deactivated_at: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

/** Registration and re-key answers: the device key, shown in this answer only. */
export class ProvisionedDeviceDto {
  @ApiProperty() device_id: string;
  @ApiProperty() user_id: string;
  @ApiProperty({ nullable: true, type: String }) label: string | null;
  @ApiProperty({ description: 'The raw derived key, base64 (the TOTP key: HMAC-SHA1, 6 digits, 30 s)' })
  derived_key: string;
  @ApiProperty({ description: 'The same key in base32, for authenticator apps' }) secret: string;
  @ApiProperty({ example: 'otpauth://totp/acme:user-42?secret=...&issuer=acme&algorithm=SHA1&digits=6&period=30' })
  provisioning_uri: string;
  @ApiProperty({ description: 'The provisioning URI as a QR code, PNG data URL' }) qr_code: string;
  @ApiProperty() key_version: number;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

export class DeviceVerifyResultDto {
  @ApiProperty() valid: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'The device whose code matched (or the one asked about)' })
  device_id: string | null;
  @ApiPropertyOptional({ description: 'When valid: matched step minus the current step (-1, 0 or 1)' })
  drift?: number;
}

export class DevicePageDto {
  @ApiProperty({ type: [DeviceResponseDto] }) items: DeviceResponseDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}
