import type { Agent, Guest, ScheduledCall, ScheduledCallStatus } from '../entities/scheduled-call.entity';

/**
 * The booking as served by the API and carried in every webhook as `payload.scheduled_call`
 * (SPEC §2). One mapping, used for both, so a receiver sees exactly what the API shows.
 */
export interface ScheduledCallRecord {
  id: string;
  app_id: string;
  status: ScheduledCallStatus;
  scheduled_at: string;
  ends_at: string;
  duration_minutes: number;
  timezone: string;
  guest: Guest;
  agent: Agent | null;
  requires_confirmation: boolean;
  previous_scheduled_at: string | null;
  reschedule_count: number;
  reschedule_reason: string | null;
  confirmed_at: string | null;
  cancelled_at: string | null;
  cancellation_reason: string | null;
  no_show_at: string | null;
  guest_joined_at: string | null;
  agent_joined_at: string | null;
  metadata: Record<string, unknown>;
  version: number;
  created_at: string;
  updated_at: string;
}

const iso = (value: Date | null): string | null => (value ? value.toISOString() : null);

export function toScheduledCallRecord(call: ScheduledCall): ScheduledCallRecord {
  return {
    id: call.id,
    app_id: call.appId,
    status: call.status,
    scheduled_at: call.scheduledAt.toISOString(),
    ends_at: call.endsAt.toISOString(),
    duration_minutes: call.durationMinutes,
    timezone: call.timezone,
    guest: call.guest,
    agent: call.agent,
    requires_confirmation: call.requiresConfirmation,
    previous_scheduled_at: iso(call.previousScheduledAt),
    reschedule_count: call.rescheduleCount,
    reschedule_reason: call.rescheduleReason,
    confirmed_at: iso(call.confirmedAt),
    cancelled_at: iso(call.cancelledAt),
    cancellation_reason: call.cancellationReason,
    no_show_at: iso(call.noShowAt),
    guest_joined_at: iso(call.guestJoinedAt),
    agent_joined_at: iso(call.agentJoinedAt),
    metadata: call.metadata,
    version: call.version,
    created_at: call.createdAt.toISOString(),
    updated_at: call.updatedAt.toISOString(),
  };
}
