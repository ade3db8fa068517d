import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '@app/shared/clock/clock';
import type { ListPosition } from '@app/shared/database/keyset';
import { nextAttemptNumber, WebhookAttempt, WebhookDelivery, WebhookSubscription } from '@app/shared/entities';
import { ScheduledCallsRepository } from '@app/shared/bookings/scheduled-calls.repository';
import { DeliveryQueue } from '@app/shared/webhooks/delivery-queue';
import { buildWebhookBody, TIMESTAMP_HEADER } from '@app/shared/webhooks/webhook-request';
import { ApiError } from '../common/api-error';
import { Page, PageQuery, positionAfter, toPage } from '../common/pagination';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { ListDeliveriesQuery, WebhookDeliveryDetailResponse, WebhookDeliveryResponse } from './dto/webhook.dto';
import { toAttemptResponse, toDeliveryResponse } from './webhook-responses';
import { WebhookSubscriptionsService } from './webhook-subscriptions.service';

/** The delivery log: lists, one delivery with its attempts, and the manual retry. */
@Injectable()
export class WebhookDeliveriesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly subscriptions: WebhookSubscriptionsService,
    private readonly queue: DeliveryQueue,
    private readonly clock: Clock,
    private readonly calls: ScheduledCallsRepository,
    private readonly deliveries: WebhookDeliveriesRepository,
  ) {}

  /** The delivery log, newest event first. */
  async listForSubscription(appId: string, subscriptionId: string, query: ListDeliveriesQuery): Promise<Page<WebhookDeliveryResponse>> {
    await this.subscriptions.find(appId, subscriptionId);
    const limit = query.limit ?? 20;
    const filters = {
      status: query.status,
      event: query.event,
      scheduledCallId: query.scheduled_call_id,
      eventId: query.event_id,
      from: query.from,
      to: query.to,
    };
    const rows = await this.deliveries.logPage(appId, subscriptionId, filters, limit + 1, positionAfter(query));
    const guests = await this.deliveries.guestNames(appId, rows.slice(0, limit));
    return toPage(rows, limit, (d) => toDeliveryResponse(d, guestOf(d, guests)), eventPosition);
  }

  /** The deliveries of one booking's events, across every subscription of the app, newest event first. */
  async listForScheduledCall(appId: string, callId: string, query: PageQuery): Promise<Page<WebhookDeliveryResponse>> {
    const call = await this.calls.findForApp(appId, callId);
    if (!call) throw ApiError.notFound('Scheduled call');
    const limit = query.limit ?? 20;
    const rows = await this.deliveries.scheduledCallPage(appId, callId, call.createdAt, limit + 1, positionAfter(query));
    return toPage(rows, limit, (d) => toDeliveryResponse(d, call.guest.name), eventPosition);
  }

  async get(appId: string, id: string): Promise<WebhookDeliveryDetailResponse> {
    const delivery = await this.deliveries.find(appId, id);
    if (!delivery) throw ApiError.notFound('Webhook delivery');
    const attempts = await this.deliveries.attempts(delivery);
    const [guests, payloadJson] = await Promise.all([
      this.deliveries.guestNames(appId, [delivery]),
      attempts.some((a) => a.requestHeaders) ? this.deliveries.eventPayload(delivery) : Promise.resolve(null),
    ]);
    return {
      ...toDeliveryResponse(delivery, guestOf(delivery, guests)),
      attempts: attempts.map((attempt) => toAttemptResponse(attempt, requestBodyOf(delivery, attempt, payloadJson))),
    };
  }

  /**
   * One manual attempt now, numbered after the last one. Refused while an attempt is in flight
   * (the lease) or while the subscription is paused.
   */
  async retry(appId: string, id: string): Promise<WebhookDeliveryResponse> {
    const now = this.clock.now();
    const { delivery, rateLimitPerSecond } = await this.db.transaction(async (manager) => {
      const found = await this.deliveries.find(appId, id, manager, true);
      if (!found) throw ApiError.notFound('Webhook delivery');
      if (found.nextTrigger === 'test')
        throw ApiError.conflict('test_delivery', 'A test send has one attempt: send another test instead (POST …/webhook-subscriptions/{subId}/test).');
      if (found.leaseUntil && found.leaseUntil > now)
        throw ApiError.conflict('attempt_in_progress', 'An attempt of this delivery is in progress; retry once it has finished.');
      const sub = await manager.findOneBy(WebhookSubscription, { id: found.subscriptionId, appId });
      if (sub?.status === 'paused') throw ApiError.conflict('subscription_paused', 'The subscription is paused: resume it first, then retry.');
      const changes = await this.deliveries.markManualRetry(manager, found, now);
      return { delivery: { ...found, ...changes }, rateLimitPerSecond: sub?.rateLimitPerSecond ?? null };
    });
    // Offered to the subscription's lane now, whatever timer an automatic attempt has; the claim
    // reads the manual trigger from the row. If Redis is down the retry is still recorded as due: the
    // sweeper sends it when Redis is back.
    await this.queue.enqueue([
      {
        deliveryId: id,
        subscriptionId: delivery.subscriptionId,
        attempt: nextAttemptNumber(delivery.attemptCount),
        manualAt: now,
        rateLimitPerSecond,
      },
    ]);
    return toDeliveryResponse(delivery, guestOf(delivery, await this.deliveries.guestNames(appId, [delivery])));
  }
}

/** The delivery log is ordered by the event's time. */
const eventPosition = (d: WebhookDelivery): ListPosition => ({ at: d.eventAt, id: d.id });

function guestOf(delivery: WebhookDelivery, guests: Map<string, string>): string | null {
  return delivery.scheduledCallId ? (guests.get(delivery.scheduledCallId) ?? null) : null;
}

/**
 * The body an attempt sent, rebuilt with the worker's own builder from the event's stored payload
 * and the `deliveredAt` the attempt's stored X-ApifyCloud-Timestamp header carries: the same bytes
 * the signature in its headers covers. Null when the attempt sent nothing.
 */
function requestBodyOf(delivery: WebhookDelivery, attempt: WebhookAttempt, payloadJson: string | null): string | null {
  const deliveredAt = attempt.requestHeaders?.[TIMESTAMP_HEADER];
  if (!deliveredAt || payloadJson === null) return null;
  return buildWebhookBody(
    {
      subscriptionId: delivery.subscriptionId,
      eventId: delivery.eventId,
      event: delivery.event,
      attempt: attempt.attempt,
      payloadJson,
      test: attempt.trigger === 'test',
    },
    new Date(deliveredAt),
  );
}
