import type { ScheduledCallRecord } from '../bookings/scheduled-call.record';

/** The five webhook event types (SPEC §3). Defined once; everything else refers to these. */
export const BookingEvents = {
  Created: 'scheduled.created',
  Confirmed: 'scheduled.confirmed',
  Rescheduled: 'scheduled.rescheduled',
  Cancelled: 'scheduled.cancelled',
  NoShow: 'scheduled.no_show',
} as const;

export type BookingEventType = (typeof BookingEvents)[keyof typeof BookingEvents];

export const BOOKING_EVENT_TYPES: readonly BookingEventType[] = Object.values(BookingEvents);

/** Every event type carries the booking as of the change; the map keeps room for per-type payloads. */
export interface BookingEventPayload {
  scheduled_call: ScheduledCallRecord;
}

export type BookingEventPayloads = { [K in BookingEventType]: BookingEventPayload };

/** A domain event as written to the outbox, in the same transaction as the change it records. */
export interface BookingEvent<K extends BookingEventType = BookingEventType> {
  eventId: string;
  type: K;
  appId: string;
  scheduledCallId: string;
  occurredAt: Date;
  payload: BookingEventPayloads[K];
  /**
   * The trace of the change that made the event (W3C, see tracing/trace-context.ts), stored with
   * it so the fan-out and every delivery attempt continue that trace; null while tracing is off.
   */
  traceContext: string | null;
}

/**
 * In-process signal emitted after commit (via @nestjs/event-emitter). It only wakes consumers of
 * the outbox; the outbox row is the record, so a lost signal loses nothing.
 */
export const OUTBOX_COMMITTED = 'outbox.committed';

export interface OutboxCommittedSignal {
  events: BookingEvent[];
}
