import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API keys as a resource (SPEC §4): a name to tell them apart, when each was last used, and a
 * revocation version every API process polls, so a revoked key stops working everywhere within
 * a second even when the pub/sub message that normally says so is lost.
 */
export class ApiKeys1764350000000 implements MigrationInterface {
  name = 'ApiKeys1764350000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE app_api_keys
        ADD COLUMN name         text CHECK (char_length(name) BETWEEN 1 AND 100),
        -- Kept to within a minute: API processes batch their uses in memory (ApiKeyUsageRecorder).
        ADD COLUMN last_used_at timestamptz`);
    // Every key so far is an app's first key, made by POST /v1/apps, which names new ones 'default'.
    await db.query(`UPDATE app_api_keys SET name = 'default'`);
    // One row. A trigger (not the API's code) bumps it, so a key revoked or deleted by any writer,
    // psql included, is noticed by every API process's poll.
    await db.query(`
      CREATE TABLE app_api_key_revocations (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        version   bigint NOT NULL
      )`);
    await db.query(`INSERT INTO app_api_key_revocations (version) VALUES (0)`);
    await db.query(`
      CREATE FUNCTION app_api_keys_bump_revocation_version() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE app_api_key_revocations SET version = version + 1;
        RETURN NULL;
      END
      $$`);
    await db.query(`
      CREATE TRIGGER app_api_keys_revoked AFTER UPDATE OF revoked_at ON app_api_keys
        FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
        EXECUTE FUNCTION app_api_keys_bump_revocation_version()`);
    await db.query(`
      CREATE TRIGGER app_api_keys_deleted AFTER DELETE ON app_api_keys
        FOR EACH ROW WHEN (OLD.revoked_at IS NULL)
        EXECUTE FUNCTION app_api_keys_bump_revocation_version()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER app_api_keys_deleted ON app_api_keys`);
    await db.query(`DROP TRIGGER app_api_keys_revoked ON app_api_keys`);
    await db.query(`DROP FUNCTION app_api_keys_bump_revocation_version()`);
    await db.query(`DROP TABLE app_api_key_revocations`);
    await db.query(`ALTER TABLE app_api_keys DROP COLUMN last_used_at, DROP COLUMN name`);
  }
}
