import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { prepareDatabase } from '../../libs/shared/src/database/prepare-database';
import { assertRedisReachable } from '../../libs/shared/src/redis/redis-connection';
import { ADMIN_DATABASE_URL, databaseUrl, TEST_REDIS_URL, templateDatabase } from './test-env';

/**
 * Once per `npm test`: a run id, and a freshly created and migrated template database that each
 * test file copies (CREATE DATABASE … TEMPLATE), so files never see each other's rows.
 */
export default async function globalSetup(): Promise<void> {
  process.env.SCW_TEST_RUN_ID = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: ADMIN_DATABASE_URL });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`Tests need PostgreSQL at ${ADMIN_DATABASE_URL} (${(error as Error).message}). Start it: pg_ctlcluster 15 main start`, { cause: error });
  }
  await admin.end();
  await assertRedisReachable(TEST_REDIS_URL);
  await prepareDatabase(databaseUrl(templateDatabase()));
}
