import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tracing (issue 14): the trace of the change that wrote an event travels with it, so the fan-out
 * and every attempt of its deliveries, in whichever process, continue one trace per booking change.
 *
 * - `outbox_events.trace_context`: the W3C `traceparent` of the span that wrote the event, then a
 *   space and the `tracestate` when there is one (libs/shared/src/tracing/trace-context.ts); NULL
 *   while tracing is off. Added on the partitioned parent, so every partition, present and future,
 *   has it. The worker's claim already joins the event (for its payload) and reads it from there,
 *   so deliveries need no copy.
 * - `outbox_pending.trace_context`: copied by the trigger, so the fan-out, which reads only the
 *   narrow pending list, can continue the trace without probing the event's partition.
 *
 * Nullable columns without a default: catalog changes, no table rewrite.
 */
export class TraceContext1764380000000 implements MigrationInterface {
  name = 'TraceContext1764380000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE outbox_events ADD COLUMN trace_context text`);
    await db.query(`ALTER TABLE outbox_pending ADD COLUMN trace_context text`);
    await db.query(`
      CREATE OR REPLACE FUNCTION outbox_events_pending() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- Rows moved between partitions by history_create_partitions are not new events.
        IF current_setting('scw.moving_rows', true) = 'on' THEN RETURN NULL; END IF;
        -- A test send's example event goes to its one subscription, never through the fan-out.
        IF NEW.scheduled_call_id IS NULL THEN RETURN NULL; END IF;
        INSERT INTO outbox_pending (event_id, seq, occurred_at, app_id, scheduled_call_id, type, trace_context)
        VALUES (NEW.id, NEW.seq, NEW.occurred_at, NEW.app_id, NEW.scheduled_call_id, NEW.type, NEW.trace_context);
        RETURN NULL;
      END
      $$`);
  }

  async down(db: QueryRunner): Promise<void> {
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
    await db.query(`ALTER TABLE outbox_pending DROP COLUMN trace_context`);
    await db.query(`ALTER TABLE outbox_events DROP COLUMN trace_context`);
  }
}
