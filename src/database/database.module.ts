import { DynamicModule, Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { dataSourceOptions, DatabaseSettings } from './data-source-options.js';
import { runMigrations } from './migration-runner.js';
import { enableNamedStatements } from './prepared-query.js';

/**
 * The connection (TypeORM's DataSource, which @nestjs/typeorm provides to every module) and
 * the migrations run at start.
 */
@Module({})
export class DatabaseModule {
  static forRoot(settings: DatabaseSettings & { runMigrations: boolean }): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => dataSourceOptions(settings),
          dataSourceFactory: async (options) => {
            const dataSource = await new DataSource(options!).initialize();
            await enableNamedStatements(dataSource);
            if (settings.runMigrations) {
              const applied = await runMigrations(dataSource);
              if (applied.length > 0) new Logger('Database').log(`applied migrations: ${applied.join(', ')}`);
            }
            return dataSource;
          },
        }),
      ],
    };
  }
}
