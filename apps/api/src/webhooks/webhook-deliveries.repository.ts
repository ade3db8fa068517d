import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, SelectQueryBuilder } from 'typeorm';
import { ListPosition, newestFirst } from '@app/shared/database/keyset';
import { queryRow, queryRows } from '@app/shared/database/sql';
import { uuidV7Millis } from '@app/shared/database/uuid-v7';
import { nextAttemptNumber, WebhookAttempt, WebhookDelivery } from '@app/shared/entities';
import type { DueAttempt } from '@app/shared/webhooks/delivery-queue';
import { HistoryReader } from '../common/history-reader';

/** The delivery log's filters, all optional and combinable. */
export interface DeliveryLogFilters {
  status?: string;
  event?: string;
  scheduledCallId?: string;
  eventId?: string;
  from?: string;
  to?: string;
}

/** A delivery made due again by an admin (resume, recover): what its lane needs to know. */
interface RequeuedRow {
  id: string;
  attempt_count: number;
  rate_limit_per_second: number | null;
}

function toDueAttempt(row: RequeuedRow, subscriptionId: string): DueAttempt {
  return { deliveryId: row.id, subscriptionId, attempt: nextAttemptNumber(row.attempt_count), rateLimitPerSecond: row.rate_limit_per_second };
}

/** One bucket's aggregates of a subscription's attempts; `bucket` is null on the totals row. */
export interface StatsRow {
  bucket: string | null;
  attempts: number;
  succeeded: number;
  p50: number | null;
  p95: number | null;
}

/** Where the stats statement looks: deliveries of events since `eventsSince`, attempts started in [from, to). */
export interface StatsRange {
  eventsSince: Date;
  from: Date;
  to: Date;
  bucketSeconds: number;
}

/** Events of a booking may carry a time up to this much before its creation (another API process's clock). */
const CLOCK_SKEW_MARGIN_MS = 86_400_000;

/**
 * The API's SQL over deliveries and their attempts: the delivery log (through the history reader's
 * generic plans), one delivery, the admin's writes (retry, resume, recover, test sends) and the stats.
 * Every statement takes the app, or a subscription the caller has already found in the app.
 */
@Injectable()
export class WebhookDeliveriesRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly history: HistoryReader,
  ) {}

  /**
   * A page of a subscription's delivery log, newest event first. Every filter has an index that
   * returns rows in this order (and from/to also prune whole days), so a page costs the same
   * whatever the history.
   */
  logPage(appId: string, subscriptionId: string, filters: DeliveryLogFilters, take: number, after?: ListPosition): Promise<WebhookDelivery[]> {
    const builder = this.db
      .getRepository(WebhookDelivery)
      .createQueryBuilder('d')
      .where('d.subscriptionId = :subscriptionId AND d.appId = :appId', { subscriptionId, appId });
    if (filters.status) builder.andWhere('d.status = :status', { status: filters.status });
    if (filters.event) builder.andWhere('d.event = :event', { event: filters.event });
    if (filters.scheduledCallId) {
      builder.andWhere('d.scheduledCallId = :callId', { callId: filters.scheduledCallId });
      // A booking's events happen after it was created, and its UUIDv7 id carries that time: the
      // weeks before it are pruned. A day of margin covers clocks that disagree between processes.
      const createdMs = uuidV7Millis(filters.scheduledCallId);
      if (createdMs !== null) builder.andWhere('d.eventAt >= :callCreatedAt', { callCreatedAt: new Date(createdMs - CLOCK_SKEW_MARGIN_MS) });
    }
    if (filters.eventId) {
      builder.andWhere('d.eventId = :eventId', { eventId: filters.eventId });
      // An event's UUIDv7 id is made from its time, which is its deliveries' event_at: one partition.
      const eventMs = uuidV7Millis(filters.eventId);
      if (eventMs !== null) builder.andWhere('d.eventAt = :eventIdAt', { eventIdAt: new Date(eventMs) });
    }
    // event_at is the event's time to the millisecond: a bound with microseconds rounds the same way.
    if (filters.from) builder.andWhere("d.eventAt >= date_trunc('milliseconds', :from::timestamptz)", { from: filters.from });
    if (filters.to) builder.andWhere("d.eventAt < date_trunc('milliseconds', :to::timestamptz)", { to: filters.to });
    return this.history.many(WebhookDelivery, newestFirst(builder, 'eventAt', take, after));
  }

  /** A page of the deliveries of one booking's events, across every subscription of the app, newest event first. */
  scheduledCallPage(appId: string, callId: string, callCreatedAt: Date, take: number, after?: ListPosition): Promise<WebhookDelivery[]> {
    return this.history.many(WebhookDelivery, this.scheduledCallDeliveriesQuery(appId, callId, callCreatedAt, take, after));
  }

  /**
   * The statement of scheduledCallPage (public so a test can EXPLAIN it): the index on
   * (scheduled_call_id, event_at, id) in list order, and only the weeks since the booking was created
   * (less a day, for a writer whose clock runs behind), so the partitions of older weeks are pruned
   * before the plan runs.
   */
  scheduledCallDeliveriesQuery(appId: string, callId: string, callCreatedAt: Date, take: number, after?: ListPosition): SelectQueryBuilder<WebhookDelivery> {
    const since = new Date(callCreatedAt.getTime() - CLOCK_SKEW_MARGIN_MS);
    const builder = this.db
      .getRepository(WebhookDelivery)
      .createQueryBuilder('d')
      .where('d.scheduledCallId = :callId AND d.appId = :appId AND d.eventAt >= :since', { callId, appId, since });
    return newestFirst(builder, 'eventAt', take, after);
  }

  /** One delivery of the app; a UUIDv7 id names its one partition. */
  find(appId: string, id: string, manager: EntityManager = this.db.manager, lock = false): Promise<WebhookDelivery | null> {
    return manager.findOne(WebhookDelivery, { where: { appId, id, ...eventAtOf(id) }, ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
  }

  /** A delivery's attempts in order; its event_at names the one partition holding them. */
  attempts(delivery: WebhookDelivery): Promise<WebhookAttempt[]> {
    return this.db.getRepository(WebhookAttempt).find({ where: { deliveryId: delivery.id, eventAt: delivery.eventAt }, order: { attempt: 'ASC' } });
  }

  /** Makes a delivery due now for a manual attempt (the caller holds its row lock). */
  async markManualRetry(manager: EntityManager, delivery: WebhookDelivery, now: Date): Promise<Partial<WebhookDelivery>> {
    const changes = { status: 'pending' as const, nextAttemptAt: now, nextTrigger: 'manual' as const, updatedAt: now };
    await manager.update(WebhookDelivery, { id: delivery.id, appId: delivery.appId, eventAt: delivery.eventAt }, changes);
    return changes;
  }

  /** The guest name of each booking of these deliveries: one lookup by primary key, for the page's rows only. */
  async guestNames(appId: string, deliveries: WebhookDelivery[]): Promise<Map<string, string>> {
    const ids = [...new Set(deliveries.map((d) => d.scheduledCallId).filter((id): id is string => id !== null))];
    if (ids.length === 0) return new Map();
    const rows = await queryRows<{ id: string; guest_name: string }>(
      this.db,
      `SELECT id, guest->>'name' AS guest_name FROM scheduled_calls WHERE id = ANY($1::uuid[]) AND app_id = $2`,
      [ids, appId],
    );
    return new Map(rows.map((row) => [row.id, row.guest_name]));
  }

  /** The event's payload exactly as stored (and sent): `json` keeps its text byte for byte. One partition: event_at is occurred_at to the millisecond. */
  async eventPayload(delivery: WebhookDelivery): Promise<string | null> {
    const row = await queryRow<{ payload: string }>(
      this.db,
      `SELECT payload::text AS payload FROM outbox_events
        WHERE id = $1 AND occurred_at >= $2 AND occurred_at < $2::timestamptz + interval '1 millisecond'`,
      [delivery.eventId, delivery.eventAt],
    );
    return row?.payload ?? null;
  }

  /** How many deliveries each subscription holds (paused). */
  async heldCounts(subscriptionIds: string[]): Promise<Map<string, number>> {
    if (subscriptionIds.length === 0) return new Map();
    const rows = await this.history.query<{ subscription_id: string; n: number }>(
      `SELECT subscription_id, count(*)::int AS n FROM webhook_deliveries WHERE subscription_id = ANY($1::uuid[]) AND status = 'held' GROUP BY subscription_id`,
      [subscriptionIds],
    );
    return new Map(rows.map((row) => [row.subscription_id, row.n]));
  }

  /**
   * Each subscription's newest delivery: one short index scan per subscription, newest partition
   * first. Test sends are skipped (they are probes, not the subscription's traffic; the few in the
   * index cost nothing).
   */
  async lastDeliveries(subscriptionIds: string[]): Promise<Map<string, WebhookDelivery>> {
    if (subscriptionIds.length === 0) return new Map();
    const rows = await this.history.entities(
      WebhookDelivery,
      `SELECT last.* FROM unnest($1::uuid[]) AS sub(id) CROSS JOIN LATERAL (
         SELECT d.* FROM webhook_deliveries d WHERE d.subscription_id = sub.id AND d.next_trigger <> 'test'
          ORDER BY d.event_at DESC, d.id DESC LIMIT 1
       ) last`,
      [subscriptionIds],
    );
    return new Map(rows.map((row) => [row.subscriptionId, row]));
  }

  /** On resume: the held deliveries become due now. */
  async releaseHeld(manager: EntityManager, subscriptionId: string, now: Date): Promise<DueAttempt[]> {
    const rows = await queryRows<RequeuedRow>(
      manager,
      `UPDATE webhook_deliveries d SET status = 'pending', next_attempt_at = $2, next_trigger = 'automatic', updated_at = $2
         FROM webhook_subscriptions s
        WHERE d.subscription_id = $1 AND d.status = 'held' AND s.id = d.subscription_id
        RETURNING d.id, d.attempt_count, s.rate_limit_per_second`,
      [subscriptionId, now],
    );
    return rows.map((row) => toDueAttempt(row, subscriptionId));
  }

  /** On resume without replay: the held deliveries end as failed (recoverable later). Returns how many. */
  async failHeld(manager: EntityManager, subscriptionId: string, now: Date): Promise<number> {
    const rows = await queryRows<{ id: string }>(
      manager,
      `UPDATE webhook_deliveries SET status = 'failed', updated_at = $2 WHERE subscription_id = $1 AND status = 'held' RETURNING id`,
      [subscriptionId, now],
    );
    return rows.length;
  }

  /** The failed deliveries of events since `since` become due now as manual attempts (test sends excepted). */
  async recoverFailed(appId: string, subscriptionId: string, since: Date, now: Date, rateLimitPerSecond: number | null): Promise<DueAttempt[]> {
    const rows = await queryRows<Omit<RequeuedRow, 'rate_limit_per_second'>>(
      this.db,
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3, next_trigger = 'manual', updated_at = $3
        WHERE subscription_id = $1 AND app_id = $4 AND status = 'failed' AND event_at >= date_trunc('milliseconds', $2::timestamptz)
          AND next_trigger <> 'test'
        RETURNING id, attempt_count`,
      [subscriptionId, since, now, appId],
    );
    return rows.map((row) => toDueAttempt({ ...row, rate_limit_per_second: rateLimitPerSecond }, subscriptionId));
  }

  /**
   * Locks the subscription for a test send (false when the app has no such subscription). The row
   * lock serialises one subscription's test sends, so a count of recent ones is exact. NO KEY, like
   * every other lock on subscriptions: the fan-out's foreign-key checks do not wait for it.
   */
  async lockForTestSend(manager: EntityManager, appId: string, subscriptionId: string): Promise<boolean> {
    const row = await queryRow<{ id: string }>(manager, `SELECT id FROM webhook_subscriptions WHERE id = $1 AND app_id = $2 FOR NO KEY UPDATE`, [
      subscriptionId,
      appId,
    ]);
    return row !== undefined;
  }

  /** The event times of the subscription's latest test sends since `since`, newest first, at most `limit`. */
  async recentTestSends(manager: EntityManager, subscriptionId: string, since: Date, limit: number): Promise<Date[]> {
    // Only test deliveries are in this partial index: a few rows, however busy the subscription.
    const rows = await queryRows<{ event_at: Date }>(
      manager,
      `SELECT event_at FROM webhook_deliveries
        WHERE subscription_id = $1 AND next_trigger = 'test' AND event_at > $2
        ORDER BY event_at DESC LIMIT $3`,
      [subscriptionId, since, limit],
    );
    return rows.map((row) => row.event_at);
  }

  /**
   * A test send's event and its one delivery. No booking: the outbox trigger leaves such an event
   * out of the fan-out, so only this subscription gets it.
   */
  async insertTestSend(manager: EntityManager, payloadJson: string, traceContext: string | null, delivery: WebhookDelivery): Promise<void> {
    await manager.query(
      `INSERT INTO outbox_events (id, app_id, scheduled_call_id, type, payload, occurred_at, trace_context) VALUES ($1, $2, NULL, $3, $4::json, $5, $6)`,
      [delivery.eventId, delivery.appId, delivery.event, payloadJson, delivery.eventAt, traceContext],
    );
    await manager.insert(WebhookDelivery, delivery);
  }

  /**
   * A subscription's attempts per bucket and in total, by their start, test sends left out.
   *
   * Attempts are partitioned by their event's time, not their start, and carry no subscription, so
   * the statement walks the subscription's deliveries (index on subscription_id, event_at) of events
   * since `eventsSince`, and each delivery's attempts come by primary key from the same partition.
   * The nested loop is estimated far above its real cost, which switched JIT compilation on: 18 ms
   * of a 84 ms query over 20,000 deliveries (measured, PostgreSQL 15). Off for this statement only.
   */
  stats(appId: string, subscriptionId: string, range: StatsRange): Promise<StatsRow[]> {
    const { sql, params } = this.statsStatement(appId, subscriptionId, range);
    return this.db.transaction(async (manager) => {
      await manager.query(`SET LOCAL jit = off`);
      return queryRows<StatsRow>(manager, sql, params);
    });
  }

  /** The statement of `stats` (public so a test can EXPLAIN it). */
  statsStatement(appId: string, subscriptionId: string, range: StatsRange): { sql: string; params: unknown[] } {
    const sql = `SELECT floor(extract(epoch FROM a.started_at) / $6)::bigint::text AS bucket,
              count(*)::int AS attempts,
              count(*) FILTER (WHERE a.response_status BETWEEN 200 AND 299)::int AS succeeded,
              percentile_disc(0.5) WITHIN GROUP (ORDER BY a.duration_ms) FILTER (WHERE a.response_status IS NOT NULL) AS p50,
              percentile_disc(0.95) WITHIN GROUP (ORDER BY a.duration_ms) FILTER (WHERE a.response_status IS NOT NULL) AS p95
         FROM webhook_deliveries d
         -- Each delivery's attempts by primary key, in its own partition (pruned at run time). OFFSET 0
         -- keeps this a nested loop: as a plain join the planner hashed a sequential scan of every
         -- subscription's attempts in those weeks, a cost that grows with the other tenants' traffic.
         CROSS JOIN LATERAL (
           SELECT a.started_at, a.response_status, a.duration_ms FROM webhook_attempts a
            WHERE a.delivery_id = d.id AND a.event_at = d.event_at AND a.event_at >= $3 AND a.event_at < $5
              AND a.started_at >= $4 AND a.started_at < $5 AND a.trigger <> 'test'
           OFFSET 0
         ) a
        WHERE d.subscription_id = $1 AND d.app_id = $2 AND d.event_at >= $3 AND d.event_at < $5
        GROUP BY GROUPING SETS ((floor(extract(epoch FROM a.started_at) / $6)), ())`;
    return { sql, params: [subscriptionId, appId, range.eventsSince, range.from, range.to, range.bucketSeconds] };
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
