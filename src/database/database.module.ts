import { DynamicModule, Global, Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { dataSourceOptions, DatabaseSettings } from './data-source-options.js';
import { InvalidationChannel } from './invalidation-channel.js';
import { runMigrations } from './migration-runner.js';
import { enableNamedStatements } from './prepared-query.js';

/** The invalidation channel, for the pool's connections and for every module's caches. */
@Global()
@Module({})
class InvalidationChannelModule {}

/**
 * The connection (TypeORM's DataSource, which @nestjs/typeorm provides to every module), the
 * migrations run at start, and the channel on which the database announces invalidations.
 */
@Module({})
export class DatabaseModule {
  static forRoot(settings: DatabaseSettings & { runMigrations: boolean; exclusive?: boolean }): DynamicModule {
    const channel: DynamicModule = {
      module: InvalidationChannelModule,
      providers: [
        {
          provide: InvalidationChannel,
          useFactory: () =>
            new InvalidationChannel({ url: settings.url, ssl: settings.ssl, exclusive: settings.exclusive ?? false }),
        },
      ],
      exports: [InvalidationChannel],
    };
    return {
      module: DatabaseModule,
      imports: [
        channel,
        TypeOrmModule.forRootAsync({
          imports: [channel],
          inject: [InvalidationChannel],
          useFactory: (invalidation: InvalidationChannel) =>
            dataSourceOptions(settings, { onConnect: invalidation.onConnect }),
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
