import { ApiProperty, PickType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { Matches } from 'class-validator';
import { DEVICE_TOTP } from '#src/devices/device-key.js';
import { RegisterDeviceDto } from '#src/devices/dto/device.dto.js';
import { deviceOtpCode } from '../otp-input.js';

const DIGITS = DEVICE_TOTP.digits;
const LARGEST = 10 ** DIGITS - 1;

/** `{device_id, user_id}`, validated as the service's own registration. */
export class DeviceOtpRegisterDto extends PickType(RegisterDeviceDto, ['device_id', 'user_id'] as const) {}

export class DeviceOtpVerifyDto extends PickType(RegisterDeviceDto, ['device_id'] as const) {
  @ApiProperty({
    oneOf: [
      { type: 'integer', minimum: 0, maximum: LARGEST },
      { type: 'string', pattern: `^[0-9]{1,${DIGITS}}$` },
    ],
    example: 123456,
    description: `The code, as a JSON integer (left-padded with zeros: 12345 is "012345") or as a string of digits`,
  })
  // Turned into the code the device shows; a value that cannot be one stays as sent and fails below.
  @Transform(({ value }: { value: unknown }) => deviceOtpCode(value, DIGITS) ?? value)
  @Matches(new RegExp(`^[0-9]{${DIGITS}}$`), {
    message: `otp must be a whole number from 0 to ${LARGEST}, or a string of at most ${DIGITS} digits`,
  })
  otp: string;
}

/** The system's answer envelope. */
export class DeviceOtpAnswerDto {
  @ApiProperty({ example: true }) success: boolean;
  @ApiProperty({ example: 'Device registered successfully' }) message: string;
}

class RegisteredDeviceDataDto {
  @ApiProperty({ example: 'TEST-DEVICE-001' }) device_id: string;
  @ApiProperty({ description: 'The raw device key, base64 (HMAC-SHA1 TOTP key, 6 digits, 30 s); shown once' })
  derived_key: string;
}

export class DeviceOtpRegisteredDto extends DeviceOtpAnswerDto {
  @ApiProperty({ type: RegisteredDeviceDataDto }) data: RegisteredDeviceDataDto;
}

class VerifiedDataDto {
  @ApiProperty({ description: 'Whether the code was accepted (a wrong, replayed or inactive device code: false)' })
  valid: boolean;
}

export class DeviceOtpVerifiedDto extends DeviceOtpAnswerDto {
  @ApiProperty({ type: VerifiedDataDto }) data: VerifiedDataDto;
}

export class DeviceOtpDeactivatedDto extends DeviceOtpAnswerDto {
  @ApiProperty({ type: 'null', nullable: true, example: null }) data: null;
}

/** A refusal: the envelope with `success: false`, and `detail` as the system's framework wrote it. */
export class DeviceOtpErrorDto {
  @ApiProperty({ example: false }) success: false;
  @ApiProperty({ example: 'Device not found' }) message: string;
  @ApiProperty({ type: 'null', nullable: true, example: null }) data: null;
  @ApiProperty({ example: 'Device not found', description: 'The same text as `message`' }) detail: string;
}

export class DeviceOtpHealthDto {
  @ApiProperty({ enum: ['healthy', 'unhealthy'], example: 'healthy' }) status: 'healthy' | 'unhealthy';
  @ApiProperty({ format: 'date-time' }) timestamp: string;
  @ApiProperty({ example: '0.1.0' }) version: string;
  @ApiProperty({ enum: ['healthy', 'unhealthy'], example: 'healthy' }) database: 'healthy' | 'unhealthy';
}
