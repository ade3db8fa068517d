import { Client } from 'pg';
import { redactUrl } from '../config/shared-config';
import { createDataSource } from './data-source';
import { HistoryMaintenance } from './history-maintenance';
import { ServiceUnavailableError } from '../startup/service-unavailable.error';

// Any fixed number: every process that migrates takes this advisory lock, so an API and workers
// starting together apply each migration once.
const MIGRATION_LOCK = 7_264_311;

/** Creates the database when it is missing. Two processes racing to create it is fine. */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error(`DATABASE_URL ${redactUrl(url)} names no database`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    throw ServiceUnavailableError.postgres(url, error);
  }
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`).catch((error: { code?: string }) => {
        // 42P04 duplicate_database, 23505 unique_violation: another process created it first.
        if (error.code !== '42P04' && error.code !== '23505') throw error;
      });
    }
  } finally {
    await client.end();
  }
}

/** Applies pending migrations under an advisory lock; returns the names applied. */
export async function migrateDatabase(url: string): Promise<string[]> {
  const dataSource = createDataSource(url, 2, 'scheduled-calls-migrate');
  try {
    await dataSource.initialize();
  } catch (error) {
    throw ServiceUnavailableError.postgres(url, error);
  }
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    // Today's and the coming days' history partitions; the worker's maintenance keeps them ahead.
    // A lock not granted (busy tables) is fine: rows outside every day go to the DEFAULT partitions.
    await new HistoryMaintenance(dataSource).ensureAhead(new Date());
    return applied.map((migration) => migration.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
    await dataSource.destroy();
  }
}

/** What every process does before it starts: the database exists and its schema is current. */
export async function prepareDatabase(url: string): Promise<string[]> {
  await ensureDatabase(url);
  return migrateDatabase(url);
}
