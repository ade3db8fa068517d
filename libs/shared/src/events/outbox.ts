import type { EntityManager } from 'typeorm';
import { unnestInput } from '../database/sql';
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
  const input = unnestInput(events, {
    id: ['uuid', (e) => e.eventId],
    app_id: ['uuid', (e) => e.appId],
    scheduled_call_id: ['uuid', (e) => e.scheduledCallId],
    type: ['text', (e) => e.type],
    payload: ['json', (e) => JSON.stringify(e.payload)],
    occurred_at: ['timestamptz', (e) => e.occurredAt],
    trace_context: ['text', (e) => e.traceContext],
  });
  await manager.query(`INSERT INTO outbox_events (${input.columns}) SELECT ${input.columns} FROM ${input.sql}`, input.params);
}
