import { AuditLog } from '#src/audit/audit-log.entity.js';

/** Every entity, listed explicitly (a glob silently finds nothing under some loaders). */
export const ENTITIES = [AuditLog];
