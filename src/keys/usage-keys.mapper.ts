import type { KeyInfoResponseDto, UsageInfoDto, UsageKeyEventDto, UsageKeyResponseDto } from './dto/usage-key.dto.js';
import type { UsageKeyEvent } from './usage-key-event.entity.js';
import { keyState, remainingUses } from './usage-key-rules.js';
import type { UsageKey } from './usage-key.entity.js';

/** A key as answered (never its secret), with the people it is assigned to; `now` decides its state. */
export function toUsageKeyResponse(key: UsageKey, now: Date, assigned: string[]): UsageKeyResponseDto {
  return {
    id: key.id,
    name: key.name,
    client_id: key.clientId,
    assigned_user_ids: assigned,
    algorithm: key.algorithm,
    digits: key.digits,
    period: key.period,
    max_uses: key.maxUses,
    usage_count: key.usageCount,
    remaining_uses: remainingUses(key),
    status: keyState(key, now),
    expires_at: key.expiresAt?.toISOString() ?? null,
    last_used: key.lastUsedAt?.toISOString() ?? null,
    created_at: key.createdAt.toISOString(),
    updated_at: key.updatedAt.toISOString(),
  };
}

/** The reference manager's `info` of a key the caller reaches. */
export function toKeyInfoResponse(key: UsageKey, name: string, now: Date): KeyInfoResponseDto {
  return {
    key: name,
    exists: true,
    max_uses: key.maxUses,
    usage_count: key.usageCount,
    remaining_uses: remainingUses(key),
    is_valid: keyState(key, now) === 'active',
    last_used: key.lastUsedAt?.toISOString() ?? null,
    created_at: key.createdAt.toISOString(),
    expires_at: key.expiresAt?.toISOString() ?? null,
  };
}

export function usageInfo(key: { maxUses: number; usageCount: number }): UsageInfoDto {
  return { max_uses: key.maxUses, usage_count: key.usageCount, remaining_uses: remainingUses(key) };
}

export function toUsageKeyEventResponse(event: UsageKeyEvent): UsageKeyEventDto {
  return {
    id: event.id,
    outcome: event.outcome,
    actor_type: event.actorType,
    actor_id: event.actorId,
    usage_count: event.usageCount,
    ip: event.ip,
    created_at: event.createdAt.toISOString(),
  };
}
