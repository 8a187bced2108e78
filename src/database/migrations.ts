import { AuditLog1795400000000 } from '../../migrations/1795400000000-AuditLog.js';
import { Identity1795403000000 } from '../../migrations/1795403000000-Identity.js';
import { AuditQueryIndexes1795409000000 } from '../../migrations/1795409000000-AuditQueryIndexes.js';
import { StatsIndexes1795410000000 } from '../../migrations/1795410000000-StatsIndexes.js';
import { AuditActionStatusIndex1795411000000 } from '../../migrations/1795411000000-AuditActionStatusIndex.js';
import { OtpConfigs1795406000000 } from '../../migrations/1795406000000-OtpConfigs.js';
import { Devices1795407000000 } from '../../migrations/1795407000000-Devices.js';
import { UsageKeys1795408000000 } from '../../migrations/1795408000000-UsageKeys.js';
import { UsageKeyTenancy1795412000000 } from '../../migrations/1795412000000-UsageKeyTenancy.js';
import { LoginFailures1795413000000 } from '../../migrations/1795413000000-LoginFailures.js';
import { SessionStepUp1795414000000 } from '../../migrations/1795414000000-SessionStepUp.js';
import { OtpMicroserviceIds1795415000000 } from '../../migrations/1795415000000-OtpMicroserviceIds.js';
import { AuthInvalidation1795415500000 } from '../../migrations/1795415500000-AuthInvalidation.js';

/** Every migration in order, listed explicitly (a glob silently finds nothing under some loaders). */
export const MIGRATIONS = [
  AuditLog1795400000000,
  Identity1795403000000,
  OtpConfigs1795406000000,
  Devices1795407000000,
  UsageKeys1795408000000,
  AuditQueryIndexes1795409000000,
  StatsIndexes1795410000000,
  AuditActionStatusIndex1795411000000,
  UsageKeyTenancy1795412000000,
  LoginFailures1795413000000,
  SessionStepUp1795414000000,
  OtpMicroserviceIds1795415000000,
  AuthInvalidation1795415500000,
];
