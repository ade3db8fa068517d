import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Isolation between subscriptions (SPEC §3): a rate limit per subscription, the circuit breaker's
 * state, an undispatched-events index the fan-out can share among apps, and a due index the
 * sweeper can page through by key.
 */
export class DeliveryIsolation1764340000000 implements MigrationInterface {
  name = 'DeliveryIsolation1764340000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE webhook_subscriptions
        ADD COLUMN rate_limit_per_second integer CHECK (rate_limit_per_second BETWEEN 1 AND 100000),
        -- 'open' with circuit_retry_at in the past reads as half_open: one probe may go.
        ADD COLUMN circuit_state      text NOT NULL DEFAULT 'closed' CHECK (circuit_state IN ('closed', 'open')),
        -- Timeouts and connection failures in a row; any HTTP answer resets it.
        ADD COLUMN circuit_failures   integer NOT NULL DEFAULT 0,
        -- Openings without a close in between: each doubles the cool-down.
        ADD COLUMN circuit_open_count integer NOT NULL DEFAULT 0,
        ADD COLUMN circuit_retry_at   timestamptz,
        ADD CONSTRAINT webhook_subscriptions_circuit_retry CHECK ((circuit_state = 'open') = (circuit_retry_at IS NOT NULL))`);
    // The fan-out shares each batch among the apps with undispatched events: it finds them by a
    // loose index scan on app_id and takes each one's oldest events, so the index leads with app_id.
    await db.query(`DROP INDEX outbox_events_undispatched`);
    await db.query(`CREATE INDEX outbox_events_undispatched ON outbox_events (app_id, seq) WHERE dispatched_at IS NULL`);
    // (next_attempt_at, id): the sweeper pages through due rows by key, each row once per pass.
    await db.query(`DROP INDEX webhook_deliveries_due`);
    await db.query(`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE status IN ('pending', 'retrying')`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX outbox_events_undispatched`);
    await db.query(`CREATE INDEX outbox_events_undispatched ON outbox_events (seq) WHERE dispatched_at IS NULL`);
    await db.query(`DROP INDEX webhook_deliveries_due`);
    await db.query(`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status IN ('pending', 'retrying')`);
    await db.query(`
      ALTER TABLE webhook_subscriptions
        DROP CONSTRAINT webhook_subscriptions_circuit_retry,
        DROP COLUMN rate_limit_per_second, DROP COLUMN circuit_state, DROP COLUMN circuit_failures,
        DROP COLUMN circuit_open_count, DROP COLUMN circuit_retry_at`);
  }
}
