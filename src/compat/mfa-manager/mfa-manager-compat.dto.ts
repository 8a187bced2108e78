import { ApiProperty } from '@nestjs/swagger';

/** One account as the manager listed it. */
export class MfaManagerCompatCodeDto {
  @ApiProperty({ example: 'GitHub', description: "The configuration's name" }) account_name: string;
  @ApiProperty({
    format: 'uuid',
    example: '5f0c3c52-7c1e-4a39-9d0b-2f6b7d1c9a10',
    description: "The configuration's id (stable; the one /api/v1/otp/configs answers)",
  })
  id: string;
  @ApiProperty({ example: 17, description: 'Seconds until the code rolls over' }) remaining_time: number;
  @ApiProperty({ example: '028364', description: 'The current TOTP code (a string: leading zeros matter)' })
  totp_code: string;
}

/** Every refusal, as the manager answered it. */
export class MfaManagerCompatErrorDto {
  @ApiProperty({ example: 'Account not found' }) error: string;
}
