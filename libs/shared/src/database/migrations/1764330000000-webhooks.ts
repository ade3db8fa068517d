import { MigrationInterface, QueryRunner } from 'typeorm';

/** Webhook subscriptions, one delivery per (event, subscription), and the log of every attempt. */
export class Webhooks1764330000000 implements MigrationInterface {
  name = 'Webhooks1764330000000';

  async up(db: QueryRunner): Promise<void> {
    // json keeps the payload's bytes and key order as written, so a delivery body is built from
    // the stored text without a parse and re-serialise.
    await db.query(`ALTER TABLE outbox_events ALTER COLUMN payload TYPE json USING payload::json`);
    await db.query(`
      CREATE TABLE webhook_subscriptions (
        id                          uuid PRIMARY KEY,
        app_id                      uuid NOT NULL REFERENCES video_apps (id),
        url                         text NOT NULL,
        events                      text[] NOT NULL,
        description                 text,
        status                      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'failing', 'paused')),
        paused_reason               text CHECK (paused_reason IN ('manual', 'auto', 'gone')),
        secret_ciphertext           bytea NOT NULL,
        previous_secret_ciphertext  bytea,
        previous_secret_expires_at  timestamptz,
        consecutive_failures        integer NOT NULL DEFAULT 0,
        failing_since               timestamptz,
        created_at                  timestamptz NOT NULL,
        updated_at                  timestamptz NOT NULL,
        CONSTRAINT webhook_subscriptions_paused_reason CHECK ((status = 'paused') = (paused_reason IS NOT NULL))
      )`);
    await db.query(`CREATE INDEX webhook_subscriptions_app ON webhook_subscriptions (app_id, created_at DESC, id DESC)`);
    await db.query(`
      CREATE TABLE webhook_deliveries (
        id                    uuid PRIMARY KEY,
        app_id                uuid NOT NULL REFERENCES video_apps (id),
        subscription_id       uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
        event_id              uuid NOT NULL REFERENCES outbox_events (id),
        event                 text NOT NULL,
        status                text NOT NULL CHECK (status IN ('pending', 'retrying', 'succeeded', 'failed', 'held')),
        attempt_count         integer NOT NULL DEFAULT 0,
        next_attempt_at       timestamptz,
        next_trigger          text NOT NULL DEFAULT 'automatic' CHECK (next_trigger IN ('automatic', 'manual')),
        lease_token           uuid,
        lease_until           timestamptz,
        last_response_status  integer,
        created_at            timestamptz NOT NULL,
        updated_at            timestamptz NOT NULL,
        CONSTRAINT webhook_deliveries_event_subscription_unique UNIQUE (event_id, subscription_id)
      )`);
    // The sweeper's scan: deliveries that are due and not being attempted.
    await db.query(`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status IN ('pending', 'retrying')`);
    await db.query(`CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, created_at DESC, id DESC)`);
    await db.query(`CREATE INDEX webhook_deliveries_held ON webhook_deliveries (subscription_id) WHERE status = 'held'`);
    await db.query(`
      CREATE TABLE webhook_attempts (
        delivery_id      uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
        attempt          integer NOT NULL,
        trigger          text NOT NULL CHECK (trigger IN ('automatic', 'manual')),
        started_at       timestamptz NOT NULL,
        duration_ms      integer NOT NULL,
        response_status  integer,
        response_body    text,
        error            text,
        PRIMARY KEY (delivery_id, attempt)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE webhook_attempts`);
    await db.query(`DROP TABLE webhook_deliveries`);
    await db.query(`DROP TABLE webhook_subscriptions`);
    await db.query(`ALTER TABLE outbox_events ALTER COLUMN payload TYPE jsonb USING payload::jsonb`);
  }
}
