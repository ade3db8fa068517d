import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { ADMIN_DATABASE_URL, databaseUrl, runId, templateDatabase } from './test-env';

/** A new database for one test file, copied from the run's migrated template. */
export async function createTestDatabase(): Promise<string> {
  const name = `scw_test_${runId()}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${templateDatabase()}"`);
        break;
      } catch (error) {
        // Two files copying the template at the same instant can collide; the copy is cheap to redo.
        if (attempt >= 20 || !/being accessed by other users/.test((error as Error).message)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  } finally {
    await admin.end();
  }
  return databaseUrl(name);
}
