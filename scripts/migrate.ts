/**
 * `npm run migration:run | migration:revert | migration:show` against DATABASE_URL.
 * New migrations are written by hand in libs/shared/src/database/migrations and listed in its index.
 */
import { readDatabaseUrl, redactUrl } from '@app/shared/config/shared-config';
import { createDataSource } from '@app/shared/database/data-source';
import { ensureDatabase, migrateDatabase } from '@app/shared/database/prepare-database';

async function main(command: string | undefined): Promise<void> {
  const url = readDatabaseUrl();
  if (command === 'run') {
    await ensureDatabase(url);
    const applied = await migrateDatabase(url);
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : `Nothing to apply: ${redactUrl(url)} is up to date.`);
    return;
  }
  const db = createDataSource(url, 1, 'scheduled-calls-migrate');
  await db.initialize();
  try {
    if (command === 'revert') {
      await db.undoLastMigration({ transaction: 'each' });
      console.log('Reverted the last migration.');
    } else if (command === 'show') {
      const pending = await db.showMigrations();
      console.log(pending ? 'There are pending migrations: run "npm run migration:run".' : 'No pending migrations.');
    } else {
      throw new Error(`unknown command "${command}": use run, revert or show`);
    }
  } finally {
    await db.destroy();
  }
}

main(process.argv[2]).catch((error: Error) => {
  console.error(`migrate: ${error.message}`);
  process.exit(1);
});
