import { Column, Entity, PrimaryColumn } from 'typeorm';

export const DELIVERY_STATUSES = ['pending', 'retrying', 'succeeded', 'failed', 'held'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
/** Waiting for an attempt (now or at next_attempt_at): what a claim takes, the sweep offers and a pause holds. */
export const DUE_STATUSES = ['pending', 'retrying'] as const satisfies readonly DeliveryStatus[];
/** Not finished: due, or held while the subscription is paused. */
export const UNFINISHED_STATUSES = ['pending', 'retrying', 'held'] as const satisfies readonly DeliveryStatus[];

export const ATTEMPT_TRIGGERS = ['automatic', 'manual', 'test'] as const;
export type AttemptTrigger = (typeof ATTEMPT_TRIGGERS)[number];

/** Attempts are numbered from 1, in order, never repeated: the next one after `attemptCount` made (or interrupted). */
export function nextAttemptNumber(attemptCount: number): number {
  return attemptCount + 1;
}

/**
 * One event for one subscription. PostgreSQL holds its schedule; the queue only carries wake-ups.
 * Partitioned by day of `eventAt` (the event's time, to the millisecond), which its UUIDv7 id carries.
 */
@Entity({ name: 'webhook_deliveries' })
export class WebhookDelivery {
  @PrimaryColumn('uuid') id: string;
  @PrimaryColumn('timestamptz', { name: 'event_at' }) eventAt: Date;
  @Column('uuid', { name: 'app_id' }) appId: string;
  @Column('uuid', { name: 'subscription_id' }) subscriptionId: string;
  @Column('uuid', { name: 'event_id' }) eventId: string;
  /** The booking the event is about; null for a test send (an example record, no booking). */
  @Column('uuid', { name: 'scheduled_call_id', nullable: true }) scheduledCallId: string | null;
  @Column('text') event: string;
  @Column('text') status: DeliveryStatus;
  @Column('integer', { name: 'attempt_count' }) attemptCount: number;
  @Column('timestamptz', { name: 'next_attempt_at', nullable: true }) nextAttemptAt: Date | null;
  /** What asked for the next attempt: the schedule, or an admin (retry, recover); `test` for good on a test send. */
  @Column('text', { name: 'next_trigger' }) nextTrigger: AttemptTrigger;
  /** Set while a worker attempts it; another worker may take over only after lease_until. */
  @Column('uuid', { name: 'lease_token', nullable: true }) leaseToken: string | null;
  @Column('timestamptz', { name: 'lease_until', nullable: true }) leaseUntil: Date | null;
  @Column('integer', { name: 'last_response_status', nullable: true }) lastResponseStatus: number | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt: Date;
}

@Entity({ name: 'webhook_attempts' })
export class WebhookAttempt {
  @PrimaryColumn('uuid', { name: 'delivery_id' }) deliveryId: string;
  @PrimaryColumn('integer') attempt: number;
  /** The delivery's `event_at`: an attempt lives in its delivery's partition. */
  @PrimaryColumn('timestamptz', { name: 'event_at' }) eventAt: Date;
  @Column('text') trigger: AttemptTrigger;
  @Column('timestamptz', { name: 'started_at' }) startedAt: Date;
  @Column('integer', { name: 'duration_ms' }) durationMs: number;
  @Column('integer', { name: 'response_status', nullable: true }) responseStatus: number | null;
  @Column('text', { name: 'response_body', nullable: true }) responseBody: string | null;
  @Column('text', { nullable: true }) error: string | null;
  /** The request's headers as sent; null when no request was built (an error before it, an interrupted or expired attempt). */
  @Column('jsonb', { name: 'request_headers', nullable: true }) requestHeaders: Record<string, string> | null;
  /** A few headers of the answer (see RESPONSE_HEADERS_KEPT in the worker's sender). */
  @Column('jsonb', { name: 'response_headers', nullable: true }) responseHeaders: Record<string, string> | null;
}
