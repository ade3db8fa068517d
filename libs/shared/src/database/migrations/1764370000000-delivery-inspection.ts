import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the console needs to inspect deliveries and to test an endpoint (issue 13):
 *
 * - `webhook_attempts.request_headers`: the headers each attempt sent (signatures included, never a
 *   secret), about 0.45 KB. The body is not stored again: it is rebuilt on read from the event's
 *   stored payload and the `deliveredAt` in the stored `X-ApifyCloud-Timestamp` header, by the
 *   function the worker sends with (libs/shared/src/webhooks/webhook-request.ts), so the attempt
 *   log grows by the headers instead of a second ~1.3 KB copy of every body per attempt.
 * - `webhook_attempts.response_headers`: a few response headers (content type and length,
 *   Retry-After, Location, WWW-Authenticate), tens of bytes.
 * - Test sends (`POST …/webhook-subscriptions/{id}/test`): an example event addressed to one
 *   subscription. Its event row has no booking (`scheduled_call_id` NULL), so the outbox trigger
 *   does not list it for the fan-out (which would send it to every subscription of the app), and
 *   its delivery has no booking either; `next_trigger = 'test'` marks the delivery for good. A
 *   partial index (only test deliveries, so nothing on the fan-out's path) counts a subscription's
 *   recent test sends for their rate limit.
 *
 * Nullable columns without a default and dropped NOT NULLs are catalog changes: no table rewrite.
 */
export class DeliveryInspection1764370000000 implements MigrationInterface {
  name = 'DeliveryInspection1764370000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE webhook_attempts ADD COLUMN request_headers jsonb, ADD COLUMN response_headers jsonb`);
    await db.query(`ALTER TABLE outbox_events ALTER COLUMN scheduled_call_id DROP NOT NULL`);
    await db.query(`ALTER TABLE webhook_deliveries ALTER COLUMN scheduled_call_id DROP NOT NULL`);
    await db.query(`
      CREATE OR REPLACE FUNCTION outbox_events_pending() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- Rows moved between partitions by history_create_partitions are not new events.
        IF current_setting('scw.moving_rows', true) = 'on' THEN RETURN NULL; END IF;
        -- A test send's example event goes to its one subscription, never through the fan-out.
        IF NEW.scheduled_call_id IS NULL THEN RETURN NULL; END IF;
        INSERT INTO outbox_pending (event_id, seq, occurred_at, app_id, scheduled_call_id, type)
        VALUES (NEW.id, NEW.seq, NEW.occurred_at, NEW.app_id, NEW.scheduled_call_id, NEW.type);
        RETURN NULL;
      END
      $$`);
    await db.query(`CREATE INDEX webhook_deliveries_test ON webhook_deliveries (subscription_id, event_at DESC) WHERE next_trigger = 'test'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX webhook_deliveries_test`);
    // Test sends have no booking and cannot stay once scheduled_call_id is required again.
    await db.query(`DELETE FROM webhook_attempts a USING webhook_deliveries d
                     WHERE d.scheduled_call_id IS NULL AND a.delivery_id = d.id AND a.event_at = d.event_at`);
    await db.query(`DELETE FROM webhook_deliveries WHERE scheduled_call_id IS NULL`);
    await db.query(`DELETE FROM outbox_events WHERE scheduled_call_id IS NULL`);
    await db.query(`
      CREATE OR REPLACE FUNCTION outbox_events_pending() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- Rows moved between partitions by history_create_partitions are not new events.
        IF current_setting('scw.moving_rows', true) = 'on' THEN RETURN NULL; END IF;
        INSERT INTO outbox_pending (event_id, seq, occurred_at, app_id, scheduled_call_id, type)
        VALUES (NEW.id, NEW.seq, NEW.occurred_at, NEW.app_id, NEW.scheduled_call_id, NEW.type);
        RETURN NULL;
      END
      $$`);
    await db.query(`ALTER TABLE webhook_deliveries ALTER COLUMN scheduled_call_id SET NOT NULL`);
    await db.query(`ALTER TABLE outbox_events ALTER COLUMN scheduled_call_id SET NOT NULL`);
    await db.query(`ALTER TABLE webhook_attempts DROP COLUMN request_headers, DROP COLUMN response_headers`);
  }
}
