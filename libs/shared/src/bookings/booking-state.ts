import type { ScheduledCall, ScheduledCallStatus } from '../entities/scheduled-call.entity';
import { BookingEvents, BookingEventType } from '../events/booking-events';

/** What can happen to an existing booking. Creation is not here: it has no "from" state. */
export type BookingCommand =
  | { action: 'confirm' }
  | { action: 'reschedule'; scheduledAt: Date; reason?: string | null }
  | { action: 'cancel'; reason?: string | null }
  | { action: 'join'; participant: 'guest' | 'agent' }
  | { action: 'no_show' };

export type BookingAction = BookingCommand['action'];

interface Transition {
  /** States the action may start from. */
  from: readonly ScheduledCallStatus[];
  /** The state it leads to; null keeps the current one. */
  to: ScheduledCallStatus | null;
  /** The one event it fires, or null (join). */
  event: BookingEventType | null;
}

const LIVE: readonly ScheduledCallStatus[] = ['pending_confirmation', 'scheduled', 'confirmed'];

/** The booking state machine (SPEC §2), as data. `cancelled` and `no_show` are final. */
export const BOOKING_TRANSITIONS: Readonly<Record<BookingAction, Transition>> = {
  confirm: { from: ['pending_confirmation'], to: 'confirmed', event: BookingEvents.Confirmed },
  reschedule: { from: LIVE, to: null, event: BookingEvents.Rescheduled },
  cancel: { from: LIVE, to: 'cancelled', event: BookingEvents.Cancelled },
  no_show: { from: ['scheduled', 'confirmed'], to: 'no_show', event: BookingEvents.NoShow },
  join: { from: ['scheduled', 'confirmed'], to: null, event: null },
};

export type TransitionPlan =
  /** The action already took effect: answer with the current record, fire nothing. */
  | { kind: 'unchanged' }
  | { kind: 'forbidden'; message: string }
  /** The new state of the booking and the event to record with it (null for join). */
  | { kind: 'changed'; call: ScheduledCall; event: BookingEventType | null };

/** Decides what a command does to a booking, without side effects. */
export function planTransition(call: ScheduledCall, command: BookingCommand, now: Date): TransitionPlan {
  if (alreadyDone(call, command)) return { kind: 'unchanged' };
  const transition = BOOKING_TRANSITIONS[command.action];
  if (!transition.from.includes(call.status)) {
    return { kind: 'forbidden', message: `Cannot ${command.action.replace('_', '-')} a call that is ${call.status}.` };
  }
  const next: ScheduledCall = { ...call, status: transition.to ?? call.status, updatedAt: now };
  switch (command.action) {
    case 'confirm':
      next.confirmedAt = now;
      break;
    case 'reschedule':
      next.previousScheduledAt = call.scheduledAt;
      next.scheduledAt = command.scheduledAt;
      next.endsAt = new Date(command.scheduledAt.getTime() + call.durationMinutes * 60_000);
      next.rescheduleCount = call.rescheduleCount + 1;
      next.rescheduleReason = command.reason ?? null;
      break;
    case 'cancel':
      next.cancelledAt = now;
      next.cancellationReason = command.reason ?? null;
      break;
    case 'no_show':
      next.noShowAt = now;
      break;
    case 'join':
      if (command.participant === 'guest') next.guestJoinedAt = now;
      else next.agentJoinedAt = now;
      break;
  }
  // `version` counts the changes that fire an event, so a receiver that sees a gap knows it
  // missed one; a join fires none and keeps the version.
  if (transition.event) next.version = call.version + 1;
  return { kind: 'changed', call: next, event: transition.event };
}

function alreadyDone(call: ScheduledCall, command: BookingCommand): boolean {
  switch (command.action) {
    case 'confirm':
      return call.status === 'confirmed';
    case 'cancel':
      return call.status === 'cancelled';
    case 'no_show':
      return call.status === 'no_show';
    case 'reschedule':
      return LIVE.includes(call.status) && call.scheduledAt.getTime() === command.scheduledAt.getTime();
    case 'join':
      return BOOKING_TRANSITIONS.join.from.includes(call.status) && (command.participant === 'guest' ? call.guestJoinedAt : call.agentJoinedAt) !== null;
  }
}
