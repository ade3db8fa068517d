import { BookingEvents, BookingEventType } from '@app/shared/events/booking-events';
import { uuidV7 } from '@app/shared/database/uuid-v7';
import { NEW_BOOKING_TIMELINE, ScheduledCall } from '@app/shared/entities';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The example booking a test send carries: a full record, as the API would have it right after a
 * real `event` (the statuses and timestamps the event implies, a version after each change), so a
 * receiver's shape checks (the receiver package's assertScheduledCall) accept it. It is a ScheduledCall
 * mapped by the same toScheduledCallRecord as every real one, so its shape cannot drift. A fresh id
 * each time: no receiver can mistake it for a real booking's next version.
 */
export function exampleScheduledCall(appId: string, event: BookingEventType, now: Date): ScheduledCall {
  const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);
  const scheduledAt = event === BookingEvents.NoShow ? at(-30 * MINUTE) : at(DAY);
  const base: ScheduledCall = {
    id: uuidV7(now),
    appId,
    status: 'scheduled',
    scheduledAt,
    endsAt: new Date(scheduledAt.getTime() + 30 * MINUTE),
    durationMinutes: 30,
    timezone: 'Europe/Paris',
    guest: { name: 'Test Guest', email: 'guest@example.com', phone: null },
    agent: { id: 'agent-example', name: 'Example Agent', email: 'agent@example.com' },
    requiresConfirmation: false,
    ...NEW_BOOKING_TIMELINE,
    metadata: { example: true },
    version: 2,
    idempotencyKey: null,
    idempotencyFingerprint: null,
    createdAt: at(-2 * DAY),
    updatedAt: now,
  };
  switch (event) {
    case BookingEvents.Created:
      return { ...base, version: 1, createdAt: now };
    case BookingEvents.Confirmed:
      return { ...base, status: 'confirmed', requiresConfirmation: true, confirmedAt: now };
    case BookingEvents.Rescheduled:
      return { ...base, previousScheduledAt: at(DAY - 2 * HOUR), rescheduleCount: 1, rescheduleReason: 'Example reschedule (test send)' };
    case BookingEvents.Cancelled:
      return { ...base, status: 'cancelled', cancelledAt: now, cancellationReason: 'Example cancellation (test send)' };
    case BookingEvents.NoShow:
      return { ...base, status: 'no_show', noShowAt: now };
  }
}
