import type { Device } from './device.entity.js';
import type { DeviceResponseDto } from './dto/device.dto.js';

/** A device as answered (never its key); `now` decides whether it is locked. */
export function toDeviceResponse(device: Device, now: Date): DeviceResponseDto {
  const locked = device.lockedUntil !== null && device.lockedUntil > now;
  return {
    device_id: device.deviceId,
    user_id: device.userId,
    label: device.label,
    key_version: device.keyVersion,
    is_active: device.isActive,
    verified: device.verifiedAt !== null,
    verified_at: device.verifiedAt?.toISOString() ?? null,
    usage_count: Number(device.usageCount ?? 0),
    last_used_at: device.lastUsedAt?.toISOString() ?? null,
    locked,
    locked_until: locked ? device.lockedUntil!.toISOString() : null,
    deactivated_at: device.deactivatedAt?.toISOString() ?? null,
    created_at: device.createdAt.toISOString(),
  };
}
