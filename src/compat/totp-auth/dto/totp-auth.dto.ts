import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { CLIENT_NAME_PATTERN } from '#src/devices/dto/device.dto.js';
import { DEVICE_TOTP } from '#src/devices/device-key.js';

const IsTotpUsername = (): PropertyDecorator =>
  Matches(CLIENT_NAME_PATTERN, {
    message: 'username must be 1 to 128 characters of letters, digits, dot, dash, underscore, colon or @',
  });

export class TotpRegisterDto {
  @ApiProperty({ example: 'example_user', description: "The client's name for the person, unique per client" })
  @IsTotpUsername()
  username: string;
}

export class TotpVerifyDto {
  @ApiProperty({ example: 'example_user' })
  @IsTotpUsername()
  username: string;

  @ApiProperty({ example: '123456', description: `The ${DEVICE_TOTP.digits}-digit code, as a string` })
  @Matches(new RegExp(`^[0-9]{${DEVICE_TOTP.digits}}$`), { message: `otp must be ${DEVICE_TOTP.digits} digits` })
  otp: string;
}

export class TotpRegisteredDto {
  @ApiProperty({ example: 'example_user' }) username: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ description: 'A code was accepted since registration: always false in this answer' })
  verified_once: boolean;
  @ApiProperty({
    example: 'otpauth://totp/acme:example_user?secret=...&issuer=acme&algorithm=SHA1&digits=6&period=30',
    description: 'Holds the secret: in this answer only',
  })
  provisioning_uri: string;
  @ApiProperty({
    example: 'data:image/png;base64,iVBORw0KGgo...',
    description: 'The provisioning URI as a PNG QR code',
  })
  qr_code_base64: string;
}

export class TotpVerifiedDto {
  @ApiProperty({ example: 'OTP is valid' }) message: string;
  @ApiProperty({ example: 'example_user' }) username: string;
  @ApiProperty({ enum: ['success'], example: 'success' }) status: 'success';
}

/** A wrong, replayed or deactivated user's code: 401, as the system answered it. */
export class TotpRejectedDto {
  @ApiProperty({ example: 'Invalid OTP' }) detail: string;
  @ApiProperty({ example: 'Invalid OTP' }) message: string;
  @ApiProperty({ example: 'example_user' }) username: string;
  @ApiProperty({ enum: ['failed'], example: 'failed' }) status: 'failed';
}

/** Any other refusal: `{detail}`, as the system's framework wrote errors. */
export class TotpErrorDto {
  @ApiProperty({ example: 'User not found' }) detail: string;
}
