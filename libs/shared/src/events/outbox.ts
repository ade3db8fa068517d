import type { EntityManager } from 'typeorm';
import { uuidV7 } from '../database/uuid-v7';
import { toScheduledCallRecord } from '../bookings/scheduled-call.record';
import type { ScheduledCall } from '../entities/scheduled-call.entity';
import type { BookingEvent, BookingEventType } from './booking-events';

/** A new event about `call`, carrying the booking exactly as it is after the change. */
export function newBookingEvent(type: BookingEventType, call: ScheduledCall, occurredAt: Date): BookingEvent {
  return {
    // Time-ordered, carrying occurredAt: inserts land at the right edge of the day's partition.
    eventId: uuidV7(occurredAt),
    type,
    appId: call.appId,
    scheduledCallId: call.id,
    occurredAt,
    payload: { scheduled_call: toScheduledCallRecord(call) },
  };
}

/** Writes events to the outbox with the caller's transaction, so they commit or roll back with it. */
export async function insertOutboxEvents(manager: EntityManager, events: BookingEvent[]): Promise<void> {
  if (events.length === 0) return;
  const values: unknown[] = [];
  const rows = events.map((event, i) => {
    values.push(event.eventId, event.appId, event.scheduledCallId, event.type, JSON.stringify(event.payload), event.occurredAt);
    const n = i * 6;
    return `($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, $${n + 5}::json, $${n + 6})`;
  });
  await manager.query(
    `INSERT INTO outbox_events (id, app_id, scheduled_call_id, type, payload, occurred_at) VALUES ${rows.join(', ')}`,
    values,
  );
}
