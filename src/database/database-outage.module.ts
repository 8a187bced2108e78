import { Module } from '@nestjs/common';
import { DatabaseOutage } from './database-outage.service.js';

/** Tells database outages from other errors (the exception filter, health and background jobs ask it). */
@Module({
  providers: [DatabaseOutage],
  exports: [DatabaseOutage],
})
export class DatabaseOutageModule {}
