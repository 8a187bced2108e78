import { Module } from '@nestjs/common';

/** The routes of 000, the usage-count key generator (COMPAT_USAGE_KEYS). */
@Module({})
export class UsageKeysCompatModule {}
