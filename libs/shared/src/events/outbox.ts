import type { EntityManager } from 'typeorm';
import { uuidV7 } from '../database/uuid-v7';
import { toScheduledCallRecord } from '../bookings/scheduled-call.record';
import type { ScheduledCall } from '../entities/scheduled-call.entity';
import { activeTraceContext } from '../tracing/trace-context';
import type { BookingEvent, BookingEventType } from './booking-events';

/**
 * A new event about `call`, carrying the booking exactly as it is after the change, and the trace
 * of the change (the active span: the API request, say), taken now because the insert may run
 * later in another request's batch.
 */
export function newBookingEvent(type: BookingEventType, call: ScheduledCall, occurredAt: Date): BookingEvent {
  return {
    // Time-ordered, carrying occurredAt: inserts land at the right edge of the day's partition.
    eventId: uuidV7(occurredAt),
    type,
    appId: call.appId,
    scheduledCallId: call.id,
    occurredAt,
    payload: { scheduled_call: toScheduledCallRecord(call) },
    traceContext: activeTraceContext(),
  };
}

/** Writes events to the outbox with the caller's transaction, so they commit or roll back with it. */
export async function insertOutboxEvents(manager: EntityManager, events: BookingEvent[]): Promise<void> {
  if (events.length === 0) return;
  const values: unknown[] = [];
  const rows = events.map((event, i) => {
    values.push(event.eventId, event.appId, event.scheduledCallId, event.type, JSON.stringify(event.payload), event.occurredAt, event.traceContext);
    const n = i * 7;
    return `($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, $${n + 5}::json, $${n + 6}, $${n + 7})`;
  });
  await manager.query(
    `INSERT INTO outbox_events (id, app_id, scheduled_call_id, type, payload, occurred_at, trace_context) VALUES ${rows.join(', ')}`,
    values,
  );
}
