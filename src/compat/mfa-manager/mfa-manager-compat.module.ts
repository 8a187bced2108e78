import { Module } from '@nestjs/common';

/** The routes of 001, the personal MFA manager (COMPAT_MFA_MANAGER). */
@Module({})
export class MfaManagerCompatModule {}
