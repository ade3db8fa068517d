import { DataSource, DataSourceOptions } from 'typeorm';
import { ENTITIES } from '../entities';
import { MIGRATIONS } from './migrations';

/** The one data source definition shared by the API, the worker and the migration CLI. */
export function dataSourceOptions(url: string, poolSize = 10, applicationName = 'scheduled-calls'): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    // Failed queries surface as exceptions and are logged once by the caller, without their parameters.
    logging: false,
    applicationName,
    extra: { max: poolSize, connectionTimeoutMillis: 5_000 },
  };
}

export function createDataSource(url: string, poolSize?: number, applicationName?: string): DataSource {
  return new DataSource(dataSourceOptions(url, poolSize, applicationName));
}
