import { MigrationInterface, QueryRunner } from 'typeorm';

/** Tenants, their API keys, bookings and the outbox of booking events. */
export class Foundation1764320000000 implements MigrationInterface {
  name = 'Foundation1764320000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE video_apps (
        id                    uuid PRIMARY KEY,
        name                  text NOT NULL,
        no_show_grace_minutes integer NOT NULL DEFAULT 15 CHECK (no_show_grace_minutes BETWEEN 0 AND 10080),
        created_at            timestamptz NOT NULL,
        updated_at            timestamptz NOT NULL
      )`);
    await db.query(`
      CREATE TABLE app_api_keys (
        id         uuid PRIMARY KEY,
        app_id     uuid NOT NULL REFERENCES video_apps (id) ON DELETE CASCADE,
        key_hash   bytea NOT NULL,
        key_prefix text NOT NULL,
        created_at timestamptz NOT NULL,
        revoked_at timestamptz,
        CONSTRAINT app_api_keys_key_hash_unique UNIQUE (key_hash)
      )`);
    await db.query(`CREATE INDEX app_api_keys_app ON app_api_keys (app_id)`);
    await db.query(`
      CREATE TABLE scheduled_calls (
        id                      uuid PRIMARY KEY,
        app_id                  uuid NOT NULL REFERENCES video_apps (id),
        status                  text NOT NULL
          CHECK (status IN ('pending_confirmation', 'scheduled', 'confirmed', 'cancelled', 'no_show')),
        scheduled_at            timestamptz NOT NULL,
        ends_at                 timestamptz NOT NULL,
        duration_minutes        integer NOT NULL CHECK (duration_minutes > 0),
        timezone                text NOT NULL,
        guest                   jsonb NOT NULL,
        agent                   jsonb,
        requires_confirmation   boolean NOT NULL,
        previous_scheduled_at   timestamptz,
        reschedule_count        integer NOT NULL DEFAULT 0,
        reschedule_reason       text,
        confirmed_at            timestamptz,
        cancelled_at            timestamptz,
        cancellation_reason     text,
        no_show_at              timestamptz,
        guest_joined_at         timestamptz,
        agent_joined_at         timestamptz,
        metadata                jsonb NOT NULL DEFAULT '{}',
        version                 integer NOT NULL DEFAULT 1,
        idempotency_key         text,
        idempotency_fingerprint bytea,
        created_at              timestamptz NOT NULL,
        updated_at              timestamptz NOT NULL
      )`);
    // One booking per (app, Idempotency-Key): the create statement relies on it (ON CONFLICT).
    await db.query(`
      CREATE UNIQUE INDEX scheduled_calls_app_idempotency_key
        ON scheduled_calls (app_id, idempotency_key) WHERE idempotency_key IS NOT NULL`);
    // The list order (newest first) and its cursor.
    await db.query(`CREATE INDEX scheduled_calls_app_created ON scheduled_calls (app_id, created_at DESC, id DESC)`);
    // The no-show detector scans only calls still waiting for someone to join.
    await db.query(`
      CREATE INDEX scheduled_calls_no_show_due ON scheduled_calls (scheduled_at)
        WHERE status IN ('scheduled', 'confirmed') AND guest_joined_at IS NULL AND agent_joined_at IS NULL`);
    await db.query(`
      CREATE TABLE outbox_events (
        id                uuid PRIMARY KEY,
        seq               bigint GENERATED ALWAYS AS IDENTITY,
        app_id            uuid NOT NULL REFERENCES video_apps (id),
        scheduled_call_id uuid NOT NULL REFERENCES scheduled_calls (id),
        type              text NOT NULL,
        payload           jsonb NOT NULL,
        occurred_at       timestamptz NOT NULL,
        dispatched_at     timestamptz,
        CONSTRAINT outbox_events_seq_unique UNIQUE (seq)
      )`);
    await db.query(`CREATE INDEX outbox_events_undispatched ON outbox_events (seq) WHERE dispatched_at IS NULL`);
    await db.query(`CREATE INDEX outbox_events_call ON outbox_events (scheduled_call_id, seq)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE outbox_events`);
    await db.query(`DROP TABLE scheduled_calls`);
    await db.query(`DROP TABLE app_api_keys`);
    await db.query(`DROP TABLE video_apps`);
  }
}
