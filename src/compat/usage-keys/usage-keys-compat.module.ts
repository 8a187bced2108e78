import { Module, OnModuleInit } from '@nestjs/common';
import { CompatErrorShapes } from '#src/compat/compat-error-shapes.js';
import { COMPAT_PATHS } from '#src/compat/compat-paths.js';
import { UsageKeysModule } from '#src/keys/usage-keys.module.js';
import { UsageKeysCompatController } from './usage-keys-compat.controller.js';
import { usageKeysErrorShape } from './usage-keys-compat.mapper.js';

/**
 * The routes of 000, the usage-count key generator (COMPAT_USAGE_KEYS), under
 * `/compat/usage-keys`: its field names and its bare `{"error": "..."}` bodies. No recording
 * of its answers was at hand: this contract comes from its documented shapes, and
 * test/compat-usage-keys.e2e-spec.ts holds it.
 *
 * - `POST get-code {key}` → 200 `{success: true, key, code, remaining_time, usage_info: {usage_count,
 *   max_uses, remaining_uses}}`, one use consumed; a spent key 403 `{"error": "Key has reached its
 *   usage limit (5/5 uses)"}` (its own figures), an expired one 403 `{"error": "Key has expired"}`.
 * - `POST validate-key {key}` → 200 `{key, valid, usage_info}`; consumes nothing.
 * - `POST key-info {key}` → 200 `{key, exists: true, max_uses, usage_count, remaining_uses, last_used,
 *   created_at}`; consumes nothing.
 * - Any of them: 404 `{"error": "Key not found"}` for a name the caller does not reach, unknown or
 *   another owner's alike; 400 `{"error": "..."}` for bad input (each bad field's first fault).
 *   `remaining_uses` is a number, or "unlimited" for max_uses -1.
 *
 * The system took no credentials; these routes take those of `/api/v1/keys/*` (an API key with
 * `keys:use` for its client's keys, or a person's token for the admin-space keys assigned to
 * them) and call the same service, so limits, tenancy and audit are the same.
 */
@Module({ imports: [UsageKeysModule], controllers: [UsageKeysCompatController] })
export class UsageKeysCompatModule implements OnModuleInit {
  constructor(private readonly errorShapes: CompatErrorShapes) {}

  onModuleInit(): void {
    this.errorShapes.register(`/${COMPAT_PATHS.usageKeys}`, usageKeysErrorShape);
  }
}
