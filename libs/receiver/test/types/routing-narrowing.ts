// Compiled by test/types.spec.ts (tsc --noEmit, strict): every `@ts-expect-error` must be an error,
// every other line must compile. Never run.
import { WebhookReceiver, type ApifyCloudWebhookEvent, type ScheduledCall } from '../../src/index.js';

declare const receiver: WebhookReceiver;

receiver.on('scheduled.cancelled', (event) => {
  const cancelledAt: string = event.payload.scheduled_call.cancelled_at;
  const status: 'cancelled' = event.payload.scheduled_call.status;
  const reason: string | null = event.payload.scheduled_call.reschedule_reason;
  // @ts-expect-error confirmed_at is still nullable on a cancellation
  const confirmedAt: string = event.payload.scheduled_call.confirmed_at;
  // @ts-expect-error the event type is narrowed
  const other: 'scheduled.confirmed' = event.event;
  void [cancelledAt, status, reason, confirmedAt, other];
});

receiver.on('scheduled.confirmed', (event) => {
  const confirmedAt: string = event.payload.scheduled_call.confirmed_at;
  const status: 'confirmed' = event.payload.scheduled_call.status;
  // @ts-expect-error cancelled_at is nullable on a confirmation
  const cancelledAt: string = event.payload.scheduled_call.cancelled_at;
  void [confirmedAt, status, cancelledAt];
});

receiver.on('scheduled.no_show', (event) => {
  const noShowAt: string = event.payload.scheduled_call.no_show_at;
  const status: 'no_show' = event.payload.scheduled_call.status;
  void [noShowAt, status];
});

receiver.on('scheduled.rescheduled', (event) => {
  const previous: string = event.payload.scheduled_call.previous_scheduled_at;
  const status: 'pending_confirmation' | 'scheduled' | 'confirmed' = event.payload.scheduled_call.status;
  // @ts-expect-error a rescheduled call is never cancelled
  const cancelled: 'cancelled' = event.payload.scheduled_call.status;
  void [previous, status, cancelled];
});

receiver.on('scheduled.created', (event) => {
  // @ts-expect-error nothing beyond the status is guaranteed on creation
  const confirmedAt: string = event.payload.scheduled_call.confirmed_at;
  void confirmedAt;
});

// @ts-expect-error not an event type
receiver.on('scheduled.deleted', () => undefined);

receiver
  .onAny((event: ApifyCloudWebhookEvent) => {
    if (event.event === 'scheduled.cancelled') {
      const cancelledAt: string = event.payload.scheduled_call.cancelled_at;
      void cancelledAt;
    }
    // @ts-expect-error not narrowed without a check
    const cancelledAt: string = event.payload.scheduled_call.cancelled_at;
    void cancelledAt;
  })
  .onError((error: unknown, event: ApifyCloudWebhookEvent) => void [error, event]);

// The generated record carries every field of the platform's schema.
const reason: ScheduledCall['reschedule_reason'] = null;
void reason;
