import type { ApiKey } from './api-key.entity.js';
import type { ApiKeyResponseDto } from './dto/api-key.dto.js';

/** An API key as answered (never its hash); `now` decides whether it has expired. */
export function toApiKeyResponse(key: ApiKey, now: Date): ApiKeyResponseDto {
  return {
    id: key.id,
    name: key.name,
    client_id: key.clientId,
    prefix: key.prefix,
    scopes: key.scopes,
    expires_at: key.expiresAt?.toISOString() ?? null,
    last_used_at: key.lastUsedAt?.toISOString() ?? null,
    usage_count: Number(key.usageCount ?? 0),
    revoked_at: key.revokedAt?.toISOString() ?? null,
    status: key.revokedAt ? 'revoked' : key.expiresAt && key.expiresAt <= now ? 'expired' : 'active',
    created_at: key.createdAt.toISOString(),
  };
}
