import type { UserResponseDto } from './dto/user.dto.js';
import type { User } from './user.entity.js';

/** The one place a user becomes a response: secrets cannot leak from here because they are not read. */
export function toUserResponse(user: User): UserResponseDto {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    role: user.role,
    is_active: user.isActive,
    mfa_enabled: user.mfaEnabled,
    department: user.department,
    job_title: user.jobTitle,
    access_level: user.accessLevel,
    session_timeout_minutes: user.sessionTimeoutMinutes,
    must_change_password: user.mustChangePassword,
    failed_login_attempts: user.failedLoginAttempts,
    locked_until: user.lockedUntil?.toISOString() ?? null,
    last_login_at: user.lastLoginAt?.toISOString() ?? null,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
  };
}
