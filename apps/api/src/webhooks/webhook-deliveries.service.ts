import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '@app/shared/clock/clock';
import { WebhookAttempt, WebhookDelivery, WebhookSubscription } from '@app/shared/entities';
import { uuidV7Millis } from '@app/shared/database/uuid-v7';
import { DeliveryQueue } from '@app/shared/webhooks/delivery-queue';
import { HistoryReader } from '../common/history-reader';
import { ApiError } from '../common/api-error';
import { decodePosition, Page, toPage } from '../common/pagination';
import { ListDeliveriesQuery, WebhookDeliveryDetailResponse, WebhookDeliveryResponse } from './dto/webhook.dto';
import { toAttemptResponse, toDeliveryResponse } from './webhook-responses';
import { WebhookSubscriptionsService } from './webhook-subscriptions.service';

const DAY_MS = 86_400_000;

/** The delivery log: lists, one delivery with its attempts, and the manual retry. */
@Injectable()
export class WebhookDeliveriesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly subscriptions: WebhookSubscriptionsService,
    private readonly queue: DeliveryQueue,
    private readonly clock: Clock,
    private readonly history: HistoryReader,
  ) {}

  /**
   * The delivery log, newest event first. Every filter has an index that returns rows in this
   * order (and from/to also prune whole days), so a page costs the same whatever the history.
   */
  async listForSubscription(appId: string, subscriptionId: string, query: ListDeliveriesQuery): Promise<Page<WebhookDeliveryResponse>> {
    await this.subscriptions.find(appId, subscriptionId);
    const limit = query.limit ?? 20;
    const builder = this.db.getRepository(WebhookDelivery).createQueryBuilder('d')
      .where('d.subscriptionId = :subscriptionId AND d.appId = :appId', { subscriptionId, appId })
      .orderBy('d.eventAt', 'DESC').addOrderBy('d.id', 'DESC').limit(limit + 1);
    if (query.status) builder.andWhere('d.status = :status', { status: query.status });
    if (query.event) builder.andWhere('d.event = :event', { event: query.event });
    if (query.scheduled_call_id) {
      builder.andWhere('d.scheduledCallId = :callId', { callId: query.scheduled_call_id });
      // A booking's events happen after it was created, and its UUIDv7 id carries that time: the
      // weeks before it are pruned. A day of margin covers clocks that disagree between processes.
      const createdMs = uuidV7Millis(query.scheduled_call_id);
      if (createdMs !== null) builder.andWhere('d.eventAt >= :callCreatedAt', { callCreatedAt: new Date(createdMs - DAY_MS) });
    }
    if (query.event_id) {
      builder.andWhere('d.eventId = :eventId', { eventId: query.event_id });
      // An event's UUIDv7 id is made from its time, which is its deliveries' event_at: one partition.
      const eventMs = uuidV7Millis(query.event_id);
      if (eventMs !== null) builder.andWhere('d.eventAt = :eventIdAt', { eventIdAt: new Date(eventMs) });
    }
    // event_at is the event's time to the millisecond: a bound with microseconds rounds the same way.
    if (query.from) builder.andWhere("d.eventAt >= date_trunc('milliseconds', :from::timestamptz)", { from: query.from });
    if (query.to) builder.andWhere("d.eventAt < date_trunc('milliseconds', :to::timestamptz)", { to: query.to });
    if (query.cursor) {
      const { createdAt: eventAt, id } = decodePosition(query.cursor);
      builder.andWhere('(d.eventAt, d.id) < (:eventAt, :id)', { eventAt, id });
    }
    return toPage(await this.history.many(WebhookDelivery, builder), limit, toDeliveryResponse, (d) => [d.eventAt.toISOString(), d.id]);
  }

  async get(appId: string, id: string): Promise<WebhookDeliveryDetailResponse> {
    const delivery = await this.find(appId, id);
    // The delivery's event_at names the one partition holding its attempts.
    const attempts = await this.db.getRepository(WebhookAttempt).find({ where: { deliveryId: id, eventAt: delivery.eventAt }, order: { attempt: 'ASC' } });
    return { ...toDeliveryResponse(delivery), attempts: attempts.map(toAttemptResponse) };
  }

  /**
   * One manual attempt now, numbered after the last one. Refused while an attempt is in flight
   * (the lease) or while the subscription is paused.
   */
  async retry(appId: string, id: string): Promise<WebhookDeliveryResponse> {
    const now = this.clock.now();
    const { delivery, rateLimitPerSecond } = await this.db.transaction(async (manager) => {
      const found = await manager.findOne(WebhookDelivery, { where: { appId, id, ...eventAtOf(id) }, lock: { mode: 'pessimistic_write' } });
      if (!found) throw ApiError.notFound('Webhook delivery');
      if (found.leaseUntil && found.leaseUntil > now) throw ApiError.conflict('attempt_in_progress', 'An attempt of this delivery is in progress; retry once it has finished.');
      const sub = await manager.findOneBy(WebhookSubscription, { id: found.subscriptionId, appId });
      if (sub?.status === 'paused') throw ApiError.conflict('subscription_paused', 'The subscription is paused: resume it first, then retry.');
      const changes = { status: 'pending' as const, nextAttemptAt: now, nextTrigger: 'manual' as const, updatedAt: now };
      await manager.update(WebhookDelivery, { id, appId, eventAt: found.eventAt }, changes);
      return { delivery: { ...found, ...changes }, rateLimitPerSecond: sub?.rateLimitPerSecond ?? null };
    });
    // Offered to the subscription's lane now, whatever timer an automatic attempt has; the claim
    // reads the manual trigger from the row. If Redis is down the retry is still recorded as due: the
    // sweeper sends it when Redis is back.
    await this.queue.enqueue([{
      deliveryId: id, subscriptionId: delivery.subscriptionId, attempt: delivery.attemptCount + 1, manualAt: now, rateLimitPerSecond,
    }]);
    return toDeliveryResponse(delivery);
  }

  private async find(appId: string, id: string): Promise<WebhookDelivery> {
    const delivery = await this.db.getRepository(WebhookDelivery).findOneBy({ appId, id, ...eventAtOf(id) });
    if (!delivery) throw ApiError.notFound('Webhook delivery');
    return delivery;
  }
}

/**
 * A UUIDv7 delivery id carries its event's millisecond, which is its event_at: the lookup then
 * reaches one partition. Older ids (random) are looked up in every partition.
 */
function eventAtOf(id: string): { eventAt?: Date } {
  const ms = uuidV7Millis(id);
  return ms === null ? {} : { eventAt: new Date(ms) };
}
