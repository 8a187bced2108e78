import { DynamicModule, Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DatabaseOutage } from './database-outage.service.js';
import { dataSourceOptions, DatabaseSettings } from './data-source-options.js';
import { runMigrations } from './migration-runner.js';

@Module({})
export class DatabaseModule {
  static forRoot(settings: DatabaseSettings & { runMigrations: boolean }): DynamicModule {
    return {
      module: DatabaseModule,
      // Global: the exception filter and background jobs ask DatabaseOutage about their errors.
      global: true,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => dataSourceOptions(settings),
          dataSourceFactory: async (options) => {
            const dataSource = await new DataSource(options!).initialize();
            if (settings.runMigrations) {
              const applied = await runMigrations(dataSource);
              if (applied.length > 0) new Logger('Database').log(`applied migrations: ${applied.join(', ')}`);
            }
            return dataSource;
          },
        }),
      ],
      providers: [DatabaseOutage],
      exports: [DatabaseOutage],
    };
  }
}
