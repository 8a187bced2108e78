import { ApiProperty } from '@nestjs/swagger';

const RATE = 'Successful / all validations, 0..1; null without any';

export class DailyUsageDto {
  @ApiProperty({ example: '2026-03-01', description: 'UTC day' }) date: string;
  @ApiProperty() generations: number;
  @ApiProperty() validations: number;
  @ApiProperty() successful_validations: number;
  @ApiProperty() failed_validations: number;
}

export class MyMetricsDto {
  @ApiProperty() total_configs: number;
  @ApiProperty() active_configs: number;
  @ApiProperty() total_generations: number;
  @ApiProperty() total_validations: number;
  @ApiProperty() successful_validations: number;
  @ApiProperty() failed_validations: number;
  @ApiProperty({ nullable: true, type: Number, description: RATE }) success_rate: number | null;
  @ApiProperty({ type: [DailyUsageDto], description: 'The last 7 UTC days, today included, oldest first' })
  last_7_days: DailyUsageDto[];
}

export class UserFiguresDto {
  @ApiProperty() total: number;
  @ApiProperty({ description: 'Accounts not disabled' }) active: number;
  @ApiProperty({ description: 'Accounts that signed in since the start of the UTC day' }) active_today: number;
}

export class ConfigurationFiguresDto {
  @ApiProperty() total: number;
  @ApiProperty() active: number;
  @ApiProperty({ example: { totp: 10, hotp: 2 }, type: 'object', additionalProperties: { type: 'integer' } })
  by_type: Record<string, number>;
}

export class OtpUsageFiguresDto {
  @ApiProperty() generations: number;
  @ApiProperty() validations: number;
  @ApiProperty() successful_validations: number;
  @ApiProperty() failed_validations: number;
  @ApiProperty({ nullable: true, type: Number, description: RATE }) success_rate: number | null;
}

export class DeviceFiguresDto {
  @ApiProperty() total: number;
  @ApiProperty() active: number;
  @ApiProperty({ description: 'Devices that passed a verification at least once' }) verified: number;
}

export class UsageKeyFiguresDto {
  @ApiProperty() total: number;
  @ApiProperty({ description: 'Limited keys whose uses are all spent (and not expired)' }) depleted: number;
  @ApiProperty() expired: number;
  @ApiProperty({ description: 'Codes handed out in the last 24 hours' }) uses_24h: number;
}

export class ActivityFiguresDto {
  @ApiProperty({ description: 'Successful sign-ins' }) logins: number;
  @ApiProperty({ description: 'Refused sign-ins (a prompt for the MFA code is not counted)' }) failed_logins: number;
  @ApiProperty() generations: number;
  @ApiProperty() validations: number;
}

export class SecurityFiguresDto {
  @ApiProperty() mfa_enabled_users: number;
  @ApiProperty({ description: 'Accounts locked now after failed sign-ins' }) locked_accounts: number;
  @ApiProperty({ description: 'API keys neither revoked nor expired' }) active_api_keys: number;
}

export class SystemMetricsDto {
  @ApiProperty({ format: 'date-time', description: 'When these figures were computed' }) generated_at: string;
  @ApiProperty({ type: UserFiguresDto }) users: UserFiguresDto;
  @ApiProperty({ type: ConfigurationFiguresDto }) configurations: ConfigurationFiguresDto;
  @ApiProperty({ type: OtpUsageFiguresDto }) otp_usage: OtpUsageFiguresDto;
  @ApiProperty({ type: DeviceFiguresDto }) devices: DeviceFiguresDto;
  @ApiProperty({ type: UsageKeyFiguresDto }) usage_keys: UsageKeyFiguresDto;
  @ApiProperty({ type: ActivityFiguresDto, description: 'The last 24 hours' }) activity_24h: ActivityFiguresDto;
  @ApiProperty({ type: SecurityFiguresDto }) security: SecurityFiguresDto;
}
