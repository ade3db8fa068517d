import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * History that stays cheap (SPEC §7): outbox events, deliveries and attempts partitioned by week
 * (Monday 00:00 UTC) of the event's time, so one event's deliveries and attempts share its week's
 * partitions and retention drops whole weeks instead of deleting rows.
 *
 * Why weeks, not days: every list that is not bounded in time (a subscription's delivery log, its
 * last delivery) is planned over every partition, and planning costs about 0.1 ms per partition
 * with this table's indexes (3.8 ms at 40 daily partitions, measured). A 30-day retention is 6
 * weekly partitions against 31 daily ones; the price is that a finished delivery is kept up to a
 * week past the retention (an unfinished one is still ended at the retention, to the hour).
 *
 * - The event's time is the partition key of all three tables and part of their keys: `occurred_at`
 *   on events, `event_at` (the same instant to the millisecond) on deliveries and attempts. Deliveries get time-ordered ids (UUIDv7 carrying `event_at`'s millisecond), so a
 *   delivery id alone says which partition holds it.
 * - Undispatched events are listed in the narrow `outbox_pending` (filled by a trigger, so writers
 *   outside the API keep inserting into `outbox_events` only); the fan-out deletes from it instead
 *   of rewriting the wide event row to mark it dispatched.
 * - Weeks are created ahead and dropped behind by the worker's maintenance job, through the two
 *   functions defined here; a DEFAULT partition takes any row outside the created weeks, so an
 *   insert never fails, and `history_create_partitions` moves such rows into their week.
 *
 * Converts an existing database in place: every row is copied into the partitioned tables (old
 * rows keep their random ids; lookups of those fall back to probing every day until they expire).
 */
export class PartitionedHistory1764360000000 implements MigrationInterface {
  name = 'PartitionedHistory1764360000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE FUNCTION uuid_v7_at(ts timestamptz) RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
        SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                 PLACING substring(int8send(floor(extract(epoch FROM ts) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
      $$`);

    await db.query(`ALTER TABLE outbox_events RENAME TO outbox_events_legacy`);
    await db.query(`ALTER TABLE webhook_deliveries RENAME TO webhook_deliveries_legacy`);
    await db.query(`ALTER TABLE webhook_attempts RENAME TO webhook_attempts_legacy`);
    for (const name of [
      'outbox_events_pkey',
      'outbox_events_seq_unique',
      'outbox_events_undispatched',
      'outbox_events_call',
      'webhook_deliveries_pkey',
      'webhook_deliveries_event_subscription_unique',
      'webhook_deliveries_due',
      'webhook_deliveries_subscription',
      'webhook_deliveries_held',
      'webhook_attempts_pkey',
    ]) {
      await db.query(`ALTER INDEX IF EXISTS ${name} RENAME TO ${name}_legacy`);
    }

    await db.query(`
      CREATE TABLE outbox_events (
        id                uuid NOT NULL,
        seq               bigint GENERATED ALWAYS AS IDENTITY,
        app_id            uuid NOT NULL REFERENCES video_apps (id),
        scheduled_call_id uuid NOT NULL REFERENCES scheduled_calls (id),
        type              text NOT NULL,
        payload           json NOT NULL,
        occurred_at       timestamptz NOT NULL,
        PRIMARY KEY (id, occurred_at)
      ) PARTITION BY RANGE (occurred_at)`);
    await db.query(`CREATE INDEX outbox_events_call ON outbox_events (scheduled_call_id, seq)`);

    // Only the events the fan-out still owes: a few rows, inserted and deleted, never updated.
    await db.query(`
      CREATE TABLE outbox_pending (
        event_id          uuid PRIMARY KEY,
        seq               bigint NOT NULL,
        occurred_at       timestamptz NOT NULL,
        app_id            uuid NOT NULL,
        scheduled_call_id uuid NOT NULL,
        type              text NOT NULL
      ) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000)`);
    // The fan-out finds the apps with work by a loose index scan and takes each one's oldest.
    await db.query(`CREATE INDEX outbox_pending_app ON outbox_pending (app_id, seq)`);
    await db.query(`
      CREATE FUNCTION outbox_events_pending() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- Rows moved between partitions by history_create_partitions are not new events.
        IF current_setting('scw.moving_rows', true) = 'on' THEN RETURN NULL; END IF;
        INSERT INTO outbox_pending (event_id, seq, occurred_at, app_id, scheduled_call_id, type)
        VALUES (NEW.id, NEW.seq, NEW.occurred_at, NEW.app_id, NEW.scheduled_call_id, NEW.type);
        RETURN NULL;
      END
      $$`);
    await db.query(`CREATE TRIGGER outbox_events_pending AFTER INSERT ON outbox_events FOR EACH ROW EXECUTE FUNCTION outbox_events_pending()`);

    await db.query(`
      CREATE TABLE webhook_deliveries (
        id                    uuid NOT NULL,
        event_at              timestamptz NOT NULL,
        app_id                uuid NOT NULL REFERENCES video_apps (id),
        subscription_id       uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
        event_id              uuid NOT NULL,
        scheduled_call_id     uuid NOT NULL,
        event                 text NOT NULL,
        status                text NOT NULL CHECK (status IN ('pending', 'retrying', 'succeeded', 'failed', 'held')),
        attempt_count         integer NOT NULL DEFAULT 0,
        next_attempt_at       timestamptz,
        next_trigger          text NOT NULL DEFAULT 'automatic' CHECK (next_trigger IN ('automatic', 'manual', 'test')),
        lease_token           uuid,
        lease_until           timestamptz,
        last_response_status  integer,
        created_at            timestamptz NOT NULL,
        updated_at            timestamptz NOT NULL,
        PRIMARY KEY (id, event_at),
        CONSTRAINT webhook_deliveries_event_subscription_unique UNIQUE (event_id, subscription_id, event_at)
      ) PARTITION BY RANGE (event_at)`);
    // The sweeper's scan: deliveries that are due and not being attempted, paged by key.
    await db.query(`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE status IN ('pending', 'retrying')`);
    // The delivery log's filters, each answered by an index in list order (newest event first).
    await db.query(`CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, event_at DESC, id DESC)`);
    await db.query(`CREATE INDEX webhook_deliveries_subscription_status ON webhook_deliveries (subscription_id, status, event_at DESC, id DESC)`);
    await db.query(`CREATE INDEX webhook_deliveries_subscription_event ON webhook_deliveries (subscription_id, event, event_at DESC, id DESC)`);
    await db.query(`CREATE INDEX webhook_deliveries_call ON webhook_deliveries (scheduled_call_id, event_at DESC, id DESC)`);
    // The few deliveries not finished yet: held counts, pause and resume, metrics, retention's expiry.
    await db.query(
      `CREATE INDEX webhook_deliveries_unfinished ON webhook_deliveries (subscription_id, status) WHERE status IN ('pending', 'retrying', 'held')`,
    );

    await db.query(`
      CREATE TABLE webhook_attempts (
        delivery_id      uuid NOT NULL,
        event_at         timestamptz NOT NULL,
        attempt          integer NOT NULL,
        trigger          text NOT NULL CHECK (trigger IN ('automatic', 'manual', 'test')),
        started_at       timestamptz NOT NULL,
        duration_ms      integer NOT NULL,
        response_status  integer,
        response_body    text,
        error            text,
        PRIMARY KEY (delivery_id, attempt, event_at)
      ) PARTITION BY RANGE (event_at)`);

    for (const table of ['outbox_events', 'webhook_deliveries', 'webhook_attempts']) {
      await db.query(`CREATE TABLE ${table}_default PARTITION OF ${table} DEFAULT`);
    }

    await db.query(`
      CREATE FUNCTION history_create_partitions(day date) RETURNS integer LANGUAGE plpgsql AS $$
      DECLARE
        -- The partitions of the week (from Monday, UTC) holding \`day\`.
        week      date := date_trunc('week', day::timestamp)::date;
        lo        timestamptz := week::timestamp AT TIME ZONE 'UTC';
        hi        timestamptz := (week + 7)::timestamp AT TIME ZONE 'UTC';
        suffix    text := to_char(week, 'YYYYMMDD');
        tables    text[] := ARRAY['outbox_events', 'webhook_deliveries', 'webhook_attempts'];
        keys      text[] := ARRAY['occurred_at', 'event_at', 'event_at'];
        -- Deliveries are updated in place (lease, outcome): room on the page keeps those updates HOT.
        options   text[] := ARRAY['', 'fillfactor = 80, ', 'fillfactor = 100, '];
        created   integer := 0;
        misplaced boolean;
      BEGIN
        FOR i IN 1 .. 3 LOOP
          CONTINUE WHEN to_regclass(tables[i] || '_p' || suffix) IS NOT NULL;
          EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I >= $1 AND %I < $2)', tables[i] || '_default', keys[i], keys[i])
            INTO misplaced USING lo, hi;
          IF misplaced THEN
            -- Rows written before their week existed: move them into it.
            EXECUTE format('ALTER TABLE %I DETACH PARTITION %I', tables[i], tables[i] || '_default');
          END IF;
          EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L) WITH (%s autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.02)',
                         tables[i] || '_p' || suffix, tables[i], lo, hi, options[i]);
          IF misplaced THEN
            PERFORM set_config('scw.moving_rows', 'on', true);
            EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= $1 AND %I < $2 RETURNING *) INSERT INTO %I SELECT * FROM moved',
                           tables[i] || '_default', keys[i], keys[i], tables[i] || '_p' || suffix) USING lo, hi;
            PERFORM set_config('scw.moving_rows', 'off', true);
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I DEFAULT', tables[i], tables[i] || '_default');
          END IF;
          created := created + 1;
        END LOOP;
        RETURN created;
      END
      $$`);
    await db.query(`
      CREATE FUNCTION history_drop_partitions(day date) RETURNS integer LANGUAGE plpgsql AS $$
      DECLARE
        suffix  text := to_char(date_trunc('week', day::timestamp)::date, 'YYYYMMDD');
        dropped integer := 0;
        t       text;
      BEGIN
        FOREACH t IN ARRAY ARRAY['webhook_attempts', 'webhook_deliveries', 'outbox_events'] LOOP
          CONTINUE WHEN to_regclass(t || '_p' || suffix) IS NULL;
          EXECUTE format('DROP TABLE %I', t || '_p' || suffix);
          dropped := dropped + 1;
        END LOOP;
        RETURN dropped;
      END
      $$`);

    // Bookings stay forever (retention removes history, not bookings): every list filter has an
    // index in its list order, so a page costs the same however many there are.
    await db.query(`CREATE INDEX scheduled_calls_app_status_created ON scheduled_calls (app_id, status, created_at DESC, id DESC)`);
    await db.query(`CREATE INDEX scheduled_calls_app_scheduled ON scheduled_calls (app_id, scheduled_at DESC, id DESC)`);
    await db.query(`CREATE INDEX scheduled_calls_app_status_scheduled ON scheduled_calls (app_id, status, scheduled_at DESC, id DESC)`);

    // The weeks the existing rows need, and a week ahead.
    await db.query(`
      SELECT history_create_partitions(week::date)
        FROM generate_series(
               date_trunc('week', least(coalesce((SELECT min(occurred_at) FROM outbox_events_legacy), now()), now()) AT TIME ZONE 'UTC'),
               date_trunc('week', now() AT TIME ZONE 'UTC') + interval '7 days',
               interval '7 days') AS week`);

    await db.query(`
      INSERT INTO outbox_events (id, seq, app_id, scheduled_call_id, type, payload, occurred_at)
      OVERRIDING SYSTEM VALUE
      SELECT id, seq, app_id, scheduled_call_id, type, payload, occurred_at FROM outbox_events_legacy ORDER BY seq`);
    // The trigger listed every copied event as pending: keep only the ones not dispatched yet.
    await db.query(`
      DELETE FROM outbox_pending p USING outbox_events_legacy e
       WHERE e.id = p.event_id AND e.dispatched_at IS NOT NULL`);
    await db.query(`SELECT setval(pg_get_serial_sequence('outbox_events', 'seq'), greatest(1, (SELECT coalesce(max(seq), 0) FROM outbox_events_legacy)))`);

    await db.query(`
      INSERT INTO webhook_deliveries (id, event_at, app_id, subscription_id, event_id, scheduled_call_id, event, status, attempt_count,
                                      next_attempt_at, next_trigger, lease_token, lease_until, last_response_status, created_at, updated_at)
      SELECT d.id, date_trunc('milliseconds', e.occurred_at), d.app_id, d.subscription_id, d.event_id, e.scheduled_call_id, d.event, d.status, d.attempt_count,
             d.next_attempt_at, d.next_trigger, d.lease_token, d.lease_until, d.last_response_status, d.created_at, d.updated_at
        FROM webhook_deliveries_legacy d JOIN outbox_events_legacy e ON e.id = d.event_id`);
    await db.query(`
      INSERT INTO webhook_attempts (delivery_id, event_at, attempt, trigger, started_at, duration_ms, response_status, response_body, error)
      SELECT a.delivery_id, date_trunc('milliseconds', e.occurred_at), a.attempt, a.trigger, a.started_at, a.duration_ms, a.response_status, a.response_body, a.error
        FROM webhook_attempts_legacy a
        JOIN webhook_deliveries_legacy d ON d.id = a.delivery_id
        JOIN outbox_events_legacy e ON e.id = d.event_id`);

    await db.query(`DROP TABLE webhook_attempts_legacy`);
    await db.query(`DROP TABLE webhook_deliveries_legacy`);
    await db.query(`DROP TABLE outbox_events_legacy`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX scheduled_calls_app_status_created`);
    await db.query(`DROP INDEX scheduled_calls_app_scheduled`);
    await db.query(`DROP INDEX scheduled_calls_app_status_scheduled`);
    await db.query(`
      CREATE TABLE outbox_events_flat (
        id                uuid PRIMARY KEY,
        seq               bigint GENERATED ALWAYS AS IDENTITY,
        app_id            uuid NOT NULL REFERENCES video_apps (id),
        scheduled_call_id uuid NOT NULL REFERENCES scheduled_calls (id),
        type              text NOT NULL,
        payload           json NOT NULL,
        occurred_at       timestamptz NOT NULL,
        dispatched_at     timestamptz,
        CONSTRAINT outbox_events_flat_seq_unique UNIQUE (seq)
      )`);
    await db.query(`
      INSERT INTO outbox_events_flat (id, seq, app_id, scheduled_call_id, type, payload, occurred_at, dispatched_at)
      OVERRIDING SYSTEM VALUE
      SELECT e.id, e.seq, e.app_id, e.scheduled_call_id, e.type, e.payload, e.occurred_at,
             CASE WHEN p.event_id IS NULL THEN e.occurred_at END
        FROM outbox_events e LEFT JOIN outbox_pending p ON p.event_id = e.id ORDER BY e.seq`);
    await db.query(`SELECT setval(pg_get_serial_sequence('outbox_events_flat', 'seq'), greatest(1, (SELECT coalesce(max(seq), 0) FROM outbox_events_flat)))`);
    await db.query(`
      CREATE TABLE webhook_deliveries_flat (
        id                    uuid PRIMARY KEY,
        app_id                uuid NOT NULL REFERENCES video_apps (id),
        subscription_id       uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
        event_id              uuid NOT NULL REFERENCES outbox_events_flat (id),
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
        CONSTRAINT webhook_deliveries_flat_event_subscription_unique UNIQUE (event_id, subscription_id)
      )`);
    await db.query(`
      INSERT INTO webhook_deliveries_flat (id, app_id, subscription_id, event_id, event, status, attempt_count, next_attempt_at, next_trigger,
                                           lease_token, lease_until, last_response_status, created_at, updated_at)
      SELECT id, app_id, subscription_id, event_id, event, status, attempt_count, next_attempt_at,
             CASE WHEN next_trigger = 'test' THEN 'manual' ELSE next_trigger END,
             lease_token, lease_until, last_response_status, created_at, updated_at
        FROM webhook_deliveries`);
    await db.query(`
      CREATE TABLE webhook_attempts_flat (
        delivery_id      uuid NOT NULL REFERENCES webhook_deliveries_flat (id) ON DELETE CASCADE,
        attempt          integer NOT NULL,
        trigger          text NOT NULL CHECK (trigger IN ('automatic', 'manual')),
        started_at       timestamptz NOT NULL,
        duration_ms      integer NOT NULL,
        response_status  integer,
        response_body    text,
        error            text,
        PRIMARY KEY (delivery_id, attempt)
      )`);
    await db.query(`
      INSERT INTO webhook_attempts_flat (delivery_id, attempt, trigger, started_at, duration_ms, response_status, response_body, error)
      SELECT a.delivery_id, a.attempt, CASE WHEN a.trigger = 'test' THEN 'manual' ELSE a.trigger END,
             a.started_at, a.duration_ms, a.response_status, a.response_body, a.error
        FROM webhook_attempts a JOIN webhook_deliveries_flat d ON d.id = a.delivery_id`);
    await db.query(`DROP TABLE webhook_attempts`);
    await db.query(`DROP TABLE webhook_deliveries`);
    await db.query(`DROP TABLE outbox_pending`);
    await db.query(`DROP TABLE outbox_events`);
    await db.query(`DROP FUNCTION outbox_events_pending()`);
    await db.query(`DROP FUNCTION history_create_partitions(date)`);
    await db.query(`DROP FUNCTION history_drop_partitions(date)`);
    await db.query(`DROP FUNCTION uuid_v7_at(timestamptz)`);
    await db.query(`ALTER TABLE outbox_events_flat RENAME TO outbox_events`);
    await db.query(`ALTER TABLE webhook_deliveries_flat RENAME TO webhook_deliveries`);
    await db.query(`ALTER TABLE webhook_attempts_flat RENAME TO webhook_attempts`);
    await db.query(`ALTER TABLE outbox_events RENAME CONSTRAINT outbox_events_flat_seq_unique TO outbox_events_seq_unique`);
    await db.query(
      `ALTER TABLE webhook_deliveries RENAME CONSTRAINT webhook_deliveries_flat_event_subscription_unique TO webhook_deliveries_event_subscription_unique`,
    );
    await db.query(`CREATE INDEX outbox_events_undispatched ON outbox_events (app_id, seq) WHERE dispatched_at IS NULL`);
    await db.query(`CREATE INDEX outbox_events_call ON outbox_events (scheduled_call_id, seq)`);
    await db.query(`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE status IN ('pending', 'retrying')`);
    await db.query(`CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, created_at DESC, id DESC)`);
    await db.query(`CREATE INDEX webhook_deliveries_held ON webhook_deliveries (subscription_id) WHERE status = 'held'`);
  }
}
