import type { DataSource } from 'typeorm';

/**
 * Commits `count` bookings and their `scheduled.created` outbox events in one transaction, as a
 * writer outside the API would, then announces them (NOTIFY outbox_events) so workers fan them
 * out at once. Faster than the API for backlogs of thousands. Returns the event ids in order.
 */
export async function commitEvents(db: DataSource, appId: string, count: number, metadata: Record<string, unknown> = {}): Promise<string[]> {
  const rows: Array<{ id: string }> = await db.query(
    `WITH calls AS (
       INSERT INTO scheduled_calls (id, app_id, status, scheduled_at, ends_at, duration_minutes, timezone, guest, requires_confirmation, metadata, version, reschedule_count, created_at, updated_at)
       SELECT gen_random_uuid(), $1, 'scheduled', now() + interval '1 day', now() + interval '1 day', 30, 'UTC', '{}'::jsonb, false, $3::jsonb, 1, 0, now(), now()
         FROM generate_series(1, $2)
       RETURNING id
     )
     INSERT INTO outbox_events (id, app_id, scheduled_call_id, type, payload, occurred_at)
     SELECT gen_random_uuid(), $1, calls.id, 'scheduled.created', json_build_object('scheduled_call', json_build_object('id', calls.id, 'metadata', $3::json)), now()
       FROM calls
     RETURNING id`,
    [appId, count, JSON.stringify(metadata)],
  );
  await db.query('NOTIFY outbox_events');
  return rows.map((row) => row.id);
}
