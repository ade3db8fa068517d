import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { BookingEventPayload, BookingEventType } from '../events/booking-events';

/**
 * One domain event, written in the same transaction as the booking change it records. It is the
 * durable record that the webhook fan-out consumes; nothing is published anywhere before commit.
 * A trigger lists each new event in `outbox_pending` until the fan-out has created its deliveries.
 */
@Entity({ name: 'outbox_events' })
export class OutboxEvent {
  @PrimaryColumn('uuid')
  id: string;

  /** Insertion order, for a relay that sweeps the outbox oldest first. */
  @Column({ type: 'bigint', insert: false, update: false })
  seq: string;

  @Column('uuid', { name: 'app_id' })
  appId: string;

  /** Null only for a test send's example event, which is never fanned out. */
  @Column('uuid', { name: 'scheduled_call_id', nullable: true })
  scheduledCallId: string | null;

  @Column('text')
  type: BookingEventType;

  @Column('json')
  payload: BookingEventPayload;

  /** The partition key (one partition per day); with `id`, the primary key. */
  @PrimaryColumn('timestamptz', { name: 'occurred_at' })
  occurredAt: Date;

  /** The W3C trace context of the change that wrote the event (then a space and its tracestate, if any); null while tracing is off. */
  @Column('text', { name: 'trace_context', nullable: true })
  traceContext: string | null;
}
