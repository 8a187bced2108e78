import type { OtpConfigResponseDto } from './dto/otp-config.dto.js';
import type { OtpConfig } from './otp-config.entity.js';

export function toOtpConfigResponse(config: OtpConfig): OtpConfigResponseDto {
  return {
    id: config.id,
    name: config.name,
    otp_type: config.otpType,
    algorithm: config.algorithm,
    digits: config.digits,
    interval: config.period,
    counter: config.counter === null ? null : Number(config.counter),
    issuer: config.issuer,
    account_name: config.accountName,
    is_active: config.isActive,
    locked_until: config.lockedUntil?.toISOString() ?? null,
    created_at: config.createdAt.toISOString(),
    updated_at: config.updatedAt.toISOString(),
  };
}
