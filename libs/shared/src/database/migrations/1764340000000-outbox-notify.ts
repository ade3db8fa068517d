import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every statement that writes outbox events notifies the `outbox_events` channel when its
 * transaction commits, so workers fan out events committed by any process (not only the API
 * that woke its own fan-out) at once. Notifications are a wake-up only; the sweep stays the truth.
 */
export class OutboxNotify1764340000000 implements MigrationInterface {
  name = 'OutboxNotify1764340000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE FUNCTION outbox_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('outbox_events', '');
        RETURN NULL;
      END $$`);
    // Per statement, and PostgreSQL folds identical notifications of one transaction into one.
    await db.query(`CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events FOR EACH STATEMENT EXECUTE FUNCTION outbox_events_notify()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER outbox_events_notify ON outbox_events`);
    await db.query(`DROP FUNCTION outbox_events_notify()`);
  }
}
