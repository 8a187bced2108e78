import { Module, OnModuleInit } from '@nestjs/common';
import { CompatErrorShapes } from '#src/compat/compat-error-shapes.js';
import { COMPAT_PATHS } from '#src/compat/compat-paths.js';
import { UsageKeysModule } from '#src/keys/usage-keys.module.js';
import { UsageKeysCompatController } from './usage-keys-compat.controller.js';
import { usageKeysErrorShape } from './usage-keys-compat.mapper.js';

/** The routes of 000, the usage-count key generator (COMPAT_USAGE_KEYS); contract in UsageKeysCompatController. */
@Module({ imports: [UsageKeysModule], controllers: [UsageKeysCompatController] })
export class UsageKeysCompatModule implements OnModuleInit {
  constructor(private readonly errorShapes: CompatErrorShapes) {}

  onModuleInit(): void {
    this.errorShapes.register(`/${COMPAT_PATHS.usageKeys}`, usageKeysErrorShape);
  }
}
