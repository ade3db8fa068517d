import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { toScheduledCallRecord } from '@app/shared/bookings/scheduled-call.record';
import { Clock } from '@app/shared/clock/clock';
import { uuidV7 } from '@app/shared/database/uuid-v7';
import { WebhookDelivery } from '@app/shared/entities';
import { BookingEvents, BookingEventType } from '@app/shared/events/booking-events';
import { activeTraceContext } from '@app/shared/tracing/trace-context';
import { DeliveryQueue, testSendLane } from '@app/shared/webhooks/delivery-queue';
import { ApiError } from '../common/api-error';
import { SendTestWebhookDto, WebhookDeliveryResponse } from './dto/webhook.dto';
import { toDeliveryResponse } from './webhook-responses';
import { exampleScheduledCall } from './webhook-test-example';

/** Test sends per subscription within TEST_SEND_WINDOW_MS; beyond, 429 with Retry-After. */
export const TEST_SENDS_PER_WINDOW = 10;
export const TEST_SEND_WINDOW_MS = 60_000;

/**
 * `POST …/webhook-subscriptions/{id}/test`: one delivery of an example event to one subscription,
 * sent by a worker through the normal sender (SSRF guard, timeout, signatures with the current and
 * previous secret), with `"test": true` in the body. It is an explicit probe: it goes out at once
 * in a lane of its own, even while the subscription is paused or its circuit is open, has one
 * attempt (trigger `test`) and no retry, and leaves the subscription's health as it was. A bounded
 * number per minute, so it cannot be used to flood an endpoint.
 */
@Injectable()
export class WebhookTestSendsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly queue: DeliveryQueue,
    private readonly clock: Clock,
  ) {}

  async send(appId: string, subscriptionId: string, dto: SendTestWebhookDto): Promise<WebhookDeliveryResponse> {
    const event = (dto.event ?? BookingEvents.Created) as BookingEventType;
    const now = this.clock.now();
    const delivery = await this.db.transaction(async (manager) => {
      // The row lock serialises one subscription's test sends, so the count below is exact. NO KEY,
      // like every other lock on subscriptions: the fan-out's foreign-key checks do not wait for it.
      const [sub] = await manager.query(`SELECT id FROM webhook_subscriptions WHERE id = $1 AND app_id = $2 FOR NO KEY UPDATE`, [subscriptionId, appId]);
      if (!sub) throw ApiError.notFound('Webhook subscription');
      // Only test deliveries are in this partial index: a few rows, however busy the subscription.
      const recent: Array<{ event_at: Date }> = await manager.query(
        `SELECT event_at FROM webhook_deliveries
          WHERE subscription_id = $1 AND next_trigger = 'test' AND event_at > $2
          ORDER BY event_at DESC LIMIT $3`,
        [subscriptionId, new Date(now.getTime() - TEST_SEND_WINDOW_MS), TEST_SENDS_PER_WINDOW],
      );
      if (recent.length >= TEST_SENDS_PER_WINDOW) {
        const oldest = recent[recent.length - 1].event_at.getTime();
        const retryAfter = Math.max(1, Math.ceil((oldest + TEST_SEND_WINDOW_MS - now.getTime()) / 1000));
        throw ApiError.tooManyRequests(
          'too_many_test_sends',
          `At most ${TEST_SENDS_PER_WINDOW} test sends per minute to one subscription; try again in ${retryAfter} s.`,
          retryAfter,
        );
      }
      const eventId = uuidV7(now);
      const payload = { scheduled_call: toScheduledCallRecord(exampleScheduledCall(appId, event, now)) };
      // No booking: the outbox trigger leaves it out of the fan-out, so only this subscription gets it.
      await manager.query(
        `INSERT INTO outbox_events (id, app_id, scheduled_call_id, type, payload, occurred_at, trace_context) VALUES ($1, $2, NULL, $3, $4::json, $5, $6)`,
        [eventId, appId, event, JSON.stringify(payload), now, activeTraceContext()],
      );
      const row: WebhookDelivery = {
        id: uuidV7(now), eventAt: now, appId, subscriptionId, eventId, scheduledCallId: null, event, status: 'pending', attemptCount: 0,
        nextAttemptAt: now, nextTrigger: 'test', leaseToken: null, leaseUntil: null, lastResponseStatus: null, createdAt: now, updatedAt: now,
      };
      await manager.insert(WebhookDelivery, row);
      return row;
    });
    // If Redis is down the row is still due: the sweep offers it to the same lane.
    await this.queue.enqueue([{ deliveryId: delivery.id, subscriptionId: testSendLane(subscriptionId), attempt: 1 }]);
    return toDeliveryResponse(delivery, null);
  }
}
