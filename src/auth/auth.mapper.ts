import type { SessionResponseDto } from './dto/auth.dto.js';
import type { Session } from './session.entity.js';

/** A session as its owner sees it (never its refresh token hash); `current` for the caller's own. */
export function toSessionResponse(session: Session, currentSessionId: string): SessionResponseDto {
  return {
    id: session.id,
    ip: session.ip,
    user_agent: session.userAgent,
    created_at: session.createdAt.toISOString(),
    last_used_at: session.lastUsedAt.toISOString(),
    expires_at: session.expiresAt.toISOString(),
    current: session.id === currentSessionId,
  };
}
