import { DataSource, DataSourceOptions } from 'typeorm';
import { ENTITIES } from '../entities';
import { MIGRATIONS } from './migrations';

export interface SessionOptions {
  /**
   * `synchronous_commit = off` for every session of the pool: a commit answers before its WAL is on
   * disk, and a PostgreSQL crash can drop the last fraction of a second of commits (never corrupt
   * them). Only for writers whose every lost commit is redone from durable state (see the worker).
   */
  asyncCommit?: boolean;
}

/** The one data source definition shared by the API, the worker and the migration CLI. */
export function dataSourceOptions(url: string, poolSize = 10, applicationName = 'scheduled-calls', session: SessionOptions = {}): DataSourceOptions {
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
    extra: { max: poolSize, connectionTimeoutMillis: 5_000, ...(session.asyncCommit ? { options: '-c synchronous_commit=off' } : {}) },
  };
}

export function createDataSource(url: string, poolSize?: number, applicationName?: string): DataSource {
  return new DataSource(dataSourceOptions(url, poolSize, applicationName));
}
