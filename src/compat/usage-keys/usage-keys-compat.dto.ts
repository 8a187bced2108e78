import { ApiProperty } from '@nestjs/swagger';
import { UsageInfoDto } from '#src/keys/dto/usage-key.dto.js';

/** `POST get-code`: one use consumed. */
export class UsageKeysCompatCodeDto {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ example: 'deploy-approval' }) key: string;
  @ApiProperty({ example: '028364', description: 'The current TOTP code (a string: leading zeros matter)' })
  code: string;
  @ApiProperty({ example: 17, description: 'Seconds until the code rolls over' }) remaining_time: number;
  @ApiProperty({ type: UsageInfoDto, description: 'The uses after this one' }) usage_info: UsageInfoDto;
}

/** `POST validate-key`: nothing consumed. */
export class UsageKeysCompatValidityDto {
  @ApiProperty({ example: 'deploy-approval' }) key: string;
  @ApiProperty({ description: 'True when the key would yield a code now' }) valid: boolean;
  @ApiProperty({ type: UsageInfoDto }) usage_info: UsageInfoDto;
}

/** `POST key-info`: nothing consumed; an unknown key is a 404, so `exists` is always true. */
export class UsageKeysCompatInfoDto {
  @ApiProperty({ example: 'deploy-approval' }) key: string;
  @ApiProperty({ example: true }) exists: true;
  @ApiProperty({ example: 5, description: '-1 = unlimited' }) max_uses: number;
  @ApiProperty({ example: 1 }) usage_count: number;
  @ApiProperty({
    oneOf: [{ type: 'integer' }, { type: 'string', enum: ['unlimited'] }],
    example: 4,
    description: 'Uses left, or "unlimited" (max_uses -1)',
  })
  remaining_uses: number | 'unlimited';
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) last_used: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

/** Every refusal, as the system answered it. */
export class UsageKeysCompatErrorDto {
  @ApiProperty({ example: 'Key has reached its usage limit (5/5 uses)' }) error: string;
}
