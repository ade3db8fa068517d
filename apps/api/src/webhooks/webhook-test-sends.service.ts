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
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
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
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly clock: Clock,
  ) {}

  async send(appId: string, subscriptionId: string, dto: SendTestWebhookDto): Promise<WebhookDeliveryResponse> {
    const event = (dto.event ?? BookingEvents.Created) as BookingEventType;
    const now = this.clock.now();
    const delivery = await this.db.transaction(async (manager) => {
      // Locked, so the count below is exact.
      if (!(await this.deliveries.lockForTestSend(manager, appId, subscriptionId))) throw ApiError.notFound('Webhook subscription');
      const recent = await this.deliveries.recentTestSends(manager, subscriptionId, new Date(now.getTime() - TEST_SEND_WINDOW_MS), TEST_SENDS_PER_WINDOW);
      if (recent.length >= TEST_SENDS_PER_WINDOW) {
        const oldest = recent[recent.length - 1].getTime();
        const retryAfter = Math.max(1, Math.ceil((oldest + TEST_SEND_WINDOW_MS - now.getTime()) / 1000));
        throw ApiError.tooManyRequests(
          'too_many_test_sends',
          `At most ${TEST_SENDS_PER_WINDOW} test sends per minute to one subscription; try again in ${retryAfter} s.`,
          retryAfter,
        );
      }
      const payload = { scheduled_call: toScheduledCallRecord(exampleScheduledCall(appId, event, now)) };
      const row: WebhookDelivery = {
        id: uuidV7(now),
        eventAt: now,
        appId,
        subscriptionId,
        eventId: uuidV7(now),
        scheduledCallId: null,
        event,
        status: 'pending',
        attemptCount: 0,
        nextAttemptAt: now,
        nextTrigger: 'test',
        leaseToken: null,
        leaseUntil: null,
        lastResponseStatus: null,
        createdAt: now,
        updatedAt: now,
      };
      await this.deliveries.insertTestSend(manager, JSON.stringify(payload), activeTraceContext(), row);
      return row;
    });
    // If Redis is down the row is still due: the sweep offers it to the same lane.
    await this.queue.enqueue([{ deliveryId: delivery.id, subscriptionId: testSendLane(subscriptionId), attempt: 1 }]);
    return toDeliveryResponse(delivery, null);
  }
}
