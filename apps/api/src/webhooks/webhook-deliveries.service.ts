import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, SelectQueryBuilder } from 'typeorm';
import { Clock } from '@app/shared/clock/clock';
import { WebhookAttempt, WebhookDelivery, WebhookSubscription } from '@app/shared/entities';
import { uuidV7Millis } from '@app/shared/database/uuid-v7';
import { ScheduledCallsRepository } from '@app/shared/bookings/scheduled-calls.repository';
import { DeliveryQueue } from '@app/shared/webhooks/delivery-queue';
import { buildWebhookBody, TIMESTAMP_HEADER } from '@app/shared/webhooks/webhook-request';
import { ApiError } from '../common/api-error';
import { decodePosition, ListPosition, Page, PageQuery, toPage } from '../common/pagination';
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
    if (query.scheduled_call_id) builder.andWhere('d.scheduledCallId = :callId', { callId: query.scheduled_call_id });
    if (query.event_id) builder.andWhere('d.eventId = :eventId', { eventId: query.event_id });
    // event_at is the event's time to the millisecond: a bound with microseconds rounds the same way.
    if (query.from) builder.andWhere("d.eventAt >= date_trunc('milliseconds', :from::timestamptz)", { from: query.from });
    if (query.to) builder.andWhere("d.eventAt < date_trunc('milliseconds', :to::timestamptz)", { to: query.to });
    if (query.cursor) {
      const { createdAt: eventAt, id } = decodePosition(query.cursor);
      builder.andWhere('(d.eventAt, d.id) < (:eventAt, :id)', { eventAt, id });
    }
    const rows = await builder.getMany();
    const guests = await this.guestNames(appId, rows.slice(0, limit));
    return toPage(rows, limit, (d) => toDeliveryResponse(d, guestOf(d, guests)), listKey);
  }

  /**
   * The deliveries of one booking's events, across every subscription of the app, newest event
   * first: the index on (scheduled_call_id, event_at, id) in list order, and only the weeks since
   * the booking was created (less a day, for a writer whose clock runs behind), so the partitions
   * of older weeks are pruned before the plan runs.
   */
  async listForScheduledCall(appId: string, callId: string, query: PageQuery): Promise<Page<WebhookDeliveryResponse>> {
    const call = await this.calls.findForApp(appId, callId);
    if (!call) throw ApiError.notFound('Scheduled call');
    const limit = query.limit ?? 20;
    const after = query.cursor ? decodePosition(query.cursor) : undefined;
    const rows = await this.scheduledCallDeliveriesQuery(appId, callId, call.createdAt, limit + 1, after).getMany();
    return toPage(rows, limit, (d) => toDeliveryResponse(d, call.guest.name), listKey);
  }

  /** The statement of listForScheduledCall (public so a test can EXPLAIN it). */
  scheduledCallDeliveriesQuery(appId: string, callId: string, callCreatedAt: Date, take: number, after?: ListPosition): SelectQueryBuilder<WebhookDelivery> {
    const since = new Date(callCreatedAt.getTime() - CLOCK_SKEW_MARGIN_MS);
    const builder = this.db.getRepository(WebhookDelivery).createQueryBuilder('d')
      .where('d.scheduledCallId = :callId AND d.appId = :appId AND d.eventAt >= :since', { callId, appId, since })
      .orderBy('d.eventAt', 'DESC').addOrderBy('d.id', 'DESC').limit(take);
    if (after) builder.andWhere('(d.eventAt, d.id) < (:eventAt, :id)', { eventAt: after.createdAt, id: after.id });
    return builder;
  }

  async get(appId: string, id: string): Promise<WebhookDeliveryDetailResponse> {
    const delivery = await this.find(appId, id);
    // The delivery's event_at names the one partition holding its attempts.
    const attempts = await this.db.getRepository(WebhookAttempt).find({ where: { deliveryId: id, eventAt: delivery.eventAt }, order: { attempt: 'ASC' } });
    const [guests, payloadJson] = await Promise.all([
      this.guestNames(appId, [delivery]),
      attempts.some((a) => a.requestHeaders) ? this.eventPayload(delivery) : Promise.resolve(null),
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
      const found = await manager.findOne(WebhookDelivery, { where: { appId, id, ...eventAtOf(id) }, lock: { mode: 'pessimistic_write' } });
      if (!found) throw ApiError.notFound('Webhook delivery');
      if (found.nextTrigger === 'test') throw ApiError.conflict('test_delivery', 'A test send has one attempt: send another test instead (POST …/webhook-subscriptions/{subId}/test).');
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
    return toDeliveryResponse(delivery, guestOf(delivery, await this.guestNames(appId, [delivery])));
  }

  /** The guest name of each booking of these deliveries: one lookup by primary key, for the page's rows only. */
  async guestNames(appId: string, deliveries: WebhookDelivery[]): Promise<Map<string, string>> {
    const ids = [...new Set(deliveries.map((d) => d.scheduledCallId).filter((id): id is string => id !== null))];
    if (ids.length === 0) return new Map();
    const rows: Array<{ id: string; guest_name: string }> = await this.db.query(
      `SELECT id, guest->>'name' AS guest_name FROM scheduled_calls WHERE id = ANY($1::uuid[]) AND app_id = $2`, [ids, appId],
    );
    return new Map(rows.map((row) => [row.id, row.guest_name]));
  }

  /** The event's payload exactly as stored (and sent): `json` keeps its text byte for byte. One partition: event_at is occurred_at to the millisecond. */
  private async eventPayload(delivery: WebhookDelivery): Promise<string | null> {
    const rows: Array<{ payload: string }> = await this.db.query(
      `SELECT payload::text AS payload FROM outbox_events
        WHERE id = $1 AND occurred_at >= $2 AND occurred_at < $2::timestamptz + interval '1 millisecond'`,
      [delivery.eventId, delivery.eventAt],
    );
    return rows[0]?.payload ?? null;
  }

  private async find(appId: string, id: string): Promise<WebhookDelivery> {
    const delivery = await this.db.getRepository(WebhookDelivery).findOneBy({ appId, id, ...eventAtOf(id) });
    if (!delivery) throw ApiError.notFound('Webhook delivery');
    return delivery;
  }
}

/** Events of a booking may carry a time up to this much before its creation (another API process's clock). */
const CLOCK_SKEW_MARGIN_MS = 86_400_000;

const listKey = (d: WebhookDelivery): string[] => [d.eventAt.toISOString(), d.id];

function guestOf(delivery: WebhookDelivery, guests: Map<string, string>): string | null {
  return delivery.scheduledCallId ? guests.get(delivery.scheduledCallId) ?? null : null;
}

/**
 * The body an attempt sent, rebuilt with the worker's own builder from the event's stored payload
 * and the `deliveredAt` the attempt's stored X-ApifyCloud-Timestamp header carries: the same bytes
 * the signature in its headers covers. Null when the attempt sent nothing.
 */
function requestBodyOf(delivery: WebhookDelivery, attempt: WebhookAttempt, payloadJson: string | null): string | null {
  const deliveredAt = attempt.requestHeaders?.[TIMESTAMP_HEADER];
  if (!deliveredAt || payloadJson === null) return null;
  return buildWebhookBody({
    subscriptionId: delivery.subscriptionId, eventId: delivery.eventId, event: delivery.event, attempt: attempt.attempt, payloadJson, test: attempt.trigger === 'test',
  }, new Date(deliveredAt));
}

/**
 * A UUIDv7 delivery id carries its event's millisecond, which is its event_at: the lookup then
 * reaches one partition. Older ids (random) are looked up in every partition.
 */
function eventAtOf(id: string): { eventAt?: Date } {
  const ms = uuidV7Millis(id);
  return ms === null ? {} : { eventAt: new Date(ms) };
}
