import { ApiKey } from '#src/api-keys/api-key.entity.js';
import { AuditAnchor } from '#src/audit/audit-anchor.entity.js';
import { AuditLog } from '#src/audit/audit-log.entity.js';
import { RecoveryCode } from '#src/auth/recovery-code.entity.js';
import { Session } from '#src/auth/session.entity.js';
import { Device } from '#src/devices/device.entity.js';
import { UsageKeyAssignment } from '#src/keys/usage-key-assignment.entity.js';
import { UsageKeyEvent } from '#src/keys/usage-key-event.entity.js';
import { UsageKey } from '#src/keys/usage-key.entity.js';
import { OtpConfig } from '#src/otp-configs/otp-config.entity.js';
import { OtpEvent } from '#src/otp-configs/otp-event.entity.js';
import { User } from '#src/users/user.entity.js';

/** Every entity, listed explicitly (a glob silently finds nothing under some loaders). */
export const ENTITIES = [
  AuditLog,
  AuditAnchor,
  User,
  Session,
  RecoveryCode,
  ApiKey,
  OtpConfig,
  OtpEvent,
  Device,
  UsageKey,
  UsageKeyEvent,
  UsageKeyAssignment,
];
