import type { AuditRecordView } from '#src/audit/audit-export.js';
import type { OtpEventDto } from '#src/otp-configs/dto/otp-codes.dto.js';
import type { CreatedOtpConfigDto, OtpConfigResponseDto } from '#src/otp-configs/dto/otp-config.dto.js';
import type { UserResponseDto } from '#src/users/dto/user.dto.js';
import type {
  CreatedMicroserviceOtpConfigDto,
  MicroserviceAuditLogDto,
  MicroserviceEventDto,
  MicroserviceOtpConfigDto,
  MicroserviceUserDto,
} from './dto/otp-microservice.dto.js';

/** A rate of 0..1 as the replaced system's percentage (two decimals); null stays null. */
export const percentage = (rate: number | null): number | null =>
  rate === null ? null : Math.round(rate * 10_000) / 100;

export function toMicroserviceUser(user: UserResponseDto, number: number): MicroserviceUserDto {
  return {
    id: number,
    username: user.username,
    email: user.email,
    is_active: user.is_active,
    is_admin: user.role === 'admin',
    mfa_enabled: user.mfa_enabled,
    created_at: user.created_at,
  };
}

export function toMicroserviceConfig(config: OtpConfigResponseDto, number: number): MicroserviceOtpConfigDto {
  return {
    id: number,
    name: config.name,
    otp_type: config.otp_type,
    algorithm: config.algorithm,
    digits: config.digits,
    interval: config.interval,
    counter: config.counter,
    issuer: config.issuer,
    account_name: config.account_name,
    is_active: config.is_active,
    created_at: config.created_at,
    updated_at: config.updated_at,
  };
}

export function toCreatedMicroserviceConfig(
  config: CreatedOtpConfigDto,
  number: number,
): CreatedMicroserviceOtpConfigDto {
  return { ...toMicroserviceConfig(config, number), secret: config.secret, provisioning_uri: config.provisioning_uri };
}

export function toMicroserviceEvent(event: OtpEventDto, number: number | null): MicroserviceEventDto {
  return {
    id: event.id,
    config_id: number,
    config_name: event.config_name,
    event_type: event.event_type,
    drift: event.drift,
    ip_address: event.ip,
    user_agent: event.user_agent,
    created_at: event.created_at,
  };
}

export function toMicroserviceAuditLog(record: AuditRecordView, userNumber: number | null): MicroserviceAuditLogDto {
  return {
    id: Number(record.id),
    timestamp: record.created_at,
    user_id: userNumber,
    actor_type: record.actor_type,
    actor_id: record.actor_id,
    action: record.action,
    resource_type: record.resource,
    resource_id: record.resource_id,
    status: record.status,
    ip_address: record.ip,
    user_agent: record.user_agent,
    details: record.details,
  };
}
