import { Module } from '@nestjs/common';

/** The routes of 003, the TOTP registration service (COMPAT_TOTP_AUTH). */
@Module({})
export class TotpAuthCompatModule {}
