import { ScheduledCall, SCHEDULED_CALL_STATUSES, ScheduledCallStatus } from '../entities/scheduled-call.entity';
import { BOOKING_TRANSITIONS, BookingCommand, planTransition } from './booking-state';

const NOW = new Date('2026-12-01T10:00:00Z');

function call(status: ScheduledCallStatus, overrides: Partial<ScheduledCall> = {}): ScheduledCall {
  return {
    id: 'c1',
    appId: 'a1',
    status,
    scheduledAt: new Date('2026-12-02T10:00:00Z'),
    endsAt: new Date('2026-12-02T10:30:00Z'),
    durationMinutes: 30,
    timezone: 'UTC',
    guest: { name: 'G', email: 'g@example.com' },
    agent: null,
    requiresConfirmation: false,
    previousScheduledAt: null,
    rescheduleCount: 0,
    rescheduleReason: null,
    confirmedAt: null,
    cancelledAt: null,
    cancellationReason: null,
    noShowAt: null,
    guestJoinedAt: null,
    agentJoinedAt: null,
    metadata: {},
    version: 3,
    idempotencyKey: null,
    idempotencyFingerprint: null,
    createdAt: new Date('2026-11-01T00:00:00Z'),
    updatedAt: new Date('2026-11-01T00:00:00Z'),
    ...overrides,
  };
}

const commands: BookingCommand[] = [
  { action: 'confirm' },
  { action: 'reschedule', scheduledAt: new Date('2026-12-03T10:00:00Z'), reason: 'moved' },
  { action: 'cancel', reason: 'ill' },
  { action: 'join', participant: 'guest' },
  { action: 'no_show' },
];

describe(planTransition.name, () => {
  describe.each(commands.map((c) => [c.action, c] as const))('%s', (action, command) => {
    const transition = BOOKING_TRANSITIONS[action];

    it.each(SCHEDULED_CALL_STATUSES.map((s) => [s]))('from %s follows the transition table', (status) => {
      const sut = planTransition(call(status), command, NOW);
      const alreadyThere = transition.to === status;
      if (alreadyThere) expect(sut.kind).toBe('unchanged');
      else if (transition.from.includes(status)) {
        expect(sut.kind).toBe('changed');
        if (sut.kind !== 'changed') return;
        expect(sut.call.status).toBe(transition.to ?? status);
        expect(sut.event).toBe(transition.event);
        expect(sut.call.version).toBe(transition.event ? 4 : 3);
        expect(sut.call.updatedAt).toEqual(NOW);
      } else expect(sut.kind).toBe('forbidden');
    });
  });

  it('sets the timeline field of each change', () => {
    const plan = (status: ScheduledCallStatus, command: BookingCommand) => {
      const result = planTransition(call(status), command, NOW);
      if (result.kind !== 'changed') throw new Error(`expected a change, got ${result.kind}`);
      return result.call;
    };
    expect(plan('pending_confirmation', { action: 'confirm' }).confirmedAt).toEqual(NOW);
    expect(plan('scheduled', { action: 'cancel', reason: 'ill' })).toMatchObject({ cancelledAt: NOW, cancellationReason: 'ill' });
    expect(plan('confirmed', { action: 'no_show' }).noShowAt).toEqual(NOW);
    expect(plan('scheduled', { action: 'join', participant: 'agent' })).toMatchObject({ agentJoinedAt: NOW, guestJoinedAt: null });
    expect(plan('scheduled', commands[1])).toMatchObject({
      scheduledAt: new Date('2026-12-03T10:00:00Z'),
      endsAt: new Date('2026-12-03T10:30:00Z'),
      previousScheduledAt: new Date('2026-12-02T10:00:00Z'),
      rescheduleCount: 1,
      rescheduleReason: 'moved',
    });
  });

  it('treats a reschedule to the same instant as already done', () => {
    const same: BookingCommand = { action: 'reschedule', scheduledAt: new Date('2026-12-02T10:00:00.000Z') };
    expect(planTransition(call('scheduled'), same, NOW).kind).toBe('unchanged');
  });

  it('treats a second join by the same side as already done, keeping the first time', () => {
    const joined = call('confirmed', { guestJoinedAt: new Date('2026-12-02T10:01:00Z') });
    expect(planTransition(joined, { action: 'join', participant: 'guest' }, NOW).kind).toBe('unchanged');
    expect(planTransition(joined, { action: 'join', participant: 'agent' }, NOW).kind).toBe('changed');
  });

  it('does not change the input record', () => {
    const original = call('scheduled');
    const copy = structuredClone(original);
    planTransition(original, { action: 'cancel' }, NOW);
    expect(original).toEqual(copy);
  });
});
