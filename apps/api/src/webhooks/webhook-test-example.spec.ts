import { randomUUID } from 'node:crypto';
import { assertScheduledCall } from '../../../../libs/receiver/src/core/payload';
import { toScheduledCallRecord } from '@app/shared/bookings/scheduled-call.record';
import { BOOKING_EVENT_TYPES, BookingEvents } from '@app/shared/events/booking-events';
import { STATUSES_AFTER_EVENT } from '@app/shared/events/webhook-event.schema';
import { exampleScheduledCall } from './webhook-test-example';

describe(exampleScheduledCall.name, () => {
  const now = new Date('2026-12-01T11:30:00.123Z');
  const sut = (event: (typeof BOOKING_EVENT_TYPES)[number]) =>
    JSON.parse(JSON.stringify(toScheduledCallRecord(exampleScheduledCall(randomUUID(), event, now))));

  it.each([...BOOKING_EVENT_TYPES])('gives %s a record the receiver package accepts, in a status the event leaves', (event) => {
    const record = sut(event);
    expect(() => assertScheduledCall(event, record)).not.toThrow();
    expect(STATUSES_AFTER_EVENT[event]).toContain(record.status);
    expect(new Date(record.updated_at).getTime()).toBe(now.getTime());
  });

  it('sets the timestamp each event implies, and a version after each change', () => {
    expect(sut(BookingEvents.Created)).toMatchObject({ version: 1, created_at: now.toISOString(), confirmed_at: null, cancelled_at: null });
    expect(sut(BookingEvents.Confirmed)).toMatchObject({ version: 2, requires_confirmation: true, confirmed_at: now.toISOString() });
    expect(sut(BookingEvents.Rescheduled)).toMatchObject({ version: 2, reschedule_count: 1, previous_scheduled_at: expect.any(String) });
    expect(sut(BookingEvents.Cancelled)).toMatchObject({ status: 'cancelled', cancelled_at: now.toISOString() });
    const noShow = sut(BookingEvents.NoShow);
    expect(noShow).toMatchObject({ status: 'no_show', no_show_at: now.toISOString(), guest_joined_at: null, agent_joined_at: null });
    expect(new Date(noShow.scheduled_at).getTime()).toBeLessThan(now.getTime());
  });

  it('gives every example a new booking id', () => {
    expect(sut(BookingEvents.Created).id).not.toBe(sut(BookingEvents.Created).id);
  });
});
