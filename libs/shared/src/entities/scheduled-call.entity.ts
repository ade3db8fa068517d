import { Column, Entity, PrimaryColumn } from 'typeorm';

export const SCHEDULED_CALL_STATUSES = ['pending_confirmation', 'scheduled', 'confirmed', 'cancelled', 'no_show'] as const;
export type ScheduledCallStatus = (typeof SCHEDULED_CALL_STATUSES)[number];

export interface Guest {
  name: string;
  email: string;
  phone?: string | null;
}

export interface Agent {
  id: string;
  name?: string | null;
  email?: string | null;
}

/** The timeline of a booking just created: nothing has happened to it yet. */
export const NEW_BOOKING_TIMELINE = {
  previousScheduledAt: null,
  rescheduleCount: 0,
  rescheduleReason: null,
  confirmedAt: null,
  cancelledAt: null,
  cancellationReason: null,
  noShowAt: null,
  guestJoinedAt: null,
  agentJoinedAt: null,
} as const satisfies Partial<ScheduledCall>;

/** A booking. Column names are snake_case in SQL; see scheduled-call.record.ts for the wire shape. */
@Entity({ name: 'scheduled_calls' })
export class ScheduledCall {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'app_id' })
  appId: string;

  @Column('text')
  status: ScheduledCallStatus;

  @Column('timestamptz', { name: 'scheduled_at' })
  scheduledAt: Date;

  @Column('timestamptz', { name: 'ends_at' })
  endsAt: Date;

  @Column('integer', { name: 'duration_minutes' })
  durationMinutes: number;

  @Column('text')
  timezone: string;

  @Column('jsonb')
  guest: Guest;

  @Column('jsonb', { nullable: true })
  agent: Agent | null;

  @Column('boolean', { name: 'requires_confirmation' })
  requiresConfirmation: boolean;

  @Column('timestamptz', { name: 'previous_scheduled_at', nullable: true })
  previousScheduledAt: Date | null;

  @Column('integer', { name: 'reschedule_count' })
  rescheduleCount: number;

  @Column('text', { name: 'reschedule_reason', nullable: true })
  rescheduleReason: string | null;

  @Column('timestamptz', { name: 'confirmed_at', nullable: true })
  confirmedAt: Date | null;

  @Column('timestamptz', { name: 'cancelled_at', nullable: true })
  cancelledAt: Date | null;

  @Column('text', { name: 'cancellation_reason', nullable: true })
  cancellationReason: string | null;

  @Column('timestamptz', { name: 'no_show_at', nullable: true })
  noShowAt: Date | null;

  @Column('timestamptz', { name: 'guest_joined_at', nullable: true })
  guestJoinedAt: Date | null;

  @Column('timestamptz', { name: 'agent_joined_at', nullable: true })
  agentJoinedAt: Date | null;

  @Column('jsonb')
  metadata: Record<string, unknown>;

  @Column('integer')
  version: number;

  /** Client-chosen key of the create request (Idempotency-Key header), unique per app. */
  @Column('text', { name: 'idempotency_key', nullable: true, select: false })
  idempotencyKey: string | null;

  /** SHA-256 of the create request's canonical body: the same key with another body is refused. */
  @Column('bytea', { name: 'idempotency_fingerprint', nullable: true, select: false })
  idempotencyFingerprint: Buffer | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt: Date;
}
