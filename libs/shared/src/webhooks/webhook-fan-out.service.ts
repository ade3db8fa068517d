import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { Clock } from '../clock/clock';
import { queryRows } from '../database/sql';
import { nextAttemptNumber } from '../entities/webhook-delivery.entity';
import { parseTraceContext } from '../tracing/trace-context';
import { Tracing } from '../tracing/tracing';
import { DeliveryQueue, DueAttempt } from './delivery-queue';

const BATCH = 500;

interface FanOutRow {
  kind: 'event' | 'delivery' | 'full';
  id: string;
  subscription_id: string | null;
  rate_limit_per_second: number | null;
  /** Of an 'event' row: the trace of the change that wrote it (null while tracing is off). */
  trace_context: string | null;
}

/** A fanned-out event that belongs to a trace, and that trace. */
interface TracedEvent {
  eventId: string;
  traceContext: string;
}
const WAKE_WINDOW_MS = 2;

/**
 * Turns outbox events into deliveries: one row per matching subscription of the event's app
 * (`held` for paused subscriptions), in the same statement that takes the events off `outbox_pending`, then
 * queues the pending ones. Events are claimed with SKIP LOCKED, so the API (woken after each
 * commit) and every worker's sweep can run this at once without doing anything twice.
 */
@Injectable()
export class WebhookFanOut {
  private readonly logger = new Logger(WebhookFanOut.name);
  private running: Promise<void> | null = null;
  private wokenWhileRunning = false;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly queue: DeliveryQueue,
    private readonly clock: Clock,
    private readonly tracing: Tracing,
  ) {}

  /** Coalesces wake-ups: one drain at a time, and one more if woken meanwhile. */
  wake(): void {
    if (this.running) {
      this.wokenWhileRunning = true;
      return;
    }
    // A short window gathers the events of concurrent commits into one fan-out statement.
    this.running = new Promise((resolve) => setTimeout(resolve, WAKE_WINDOW_MS))
      .then(() => this.drain())
      .then(() => undefined)
      .catch((error: Error) => this.logger.error(`Fan-out failed; the sweep will retry: ${error.message}`))
      .finally(() => {
        this.running = null;
        if (this.wokenWhileRunning) {
          this.wokenWhileRunning = false;
          this.wake();
        }
      });
  }

  /** Resolves once the current drain (if any) is over; for shutdown and tests. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Fans out every undispatched event; returns how many events it dispatched. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const startedAt = this.tracing.enabled ? new Date() : undefined;
      const { events, pending, more, traced } = await this.fanOutBatch(BATCH);
      total += events;
      const queued = await this.queue.enqueue(pending);
      if (startedAt && traced.length > 0) this.traceBatch(traced, startedAt, events, pending.length, queued);
      if (!more) return total;
    }
  }

  /**
   * A span per traced event, in its own trace (a batch mixes the events of many booking changes),
   * each covering the whole batch: the statement that created the deliveries and their queueing.
   * Made after the fact, from the trace context the statement returned: a span cannot be started
   * in a trace before knowing which events the batch will take.
   */
  private traceBatch(traced: TracedEvent[], startedAt: Date, events: number, deliveries: number, queued: boolean): void {
    for (const { eventId, traceContext } of traced) {
      const parent = parseTraceContext(traceContext);
      if (!parent) continue;
      const span = this.tracing.tracer.startSpan(
        'webhook fan-out',
        {
          kind: SpanKind.PRODUCER,
          startTime: startedAt,
          attributes: { 'scw.event.id': eventId, 'scw.fan_out.batch_events': events, 'scw.fan_out.batch_deliveries_due': deliveries },
        },
        parent,
      );
      // Redis refused them: the rows stay due and the sweeper offers them, later than usual.
      if (!queued) span.setStatus({ code: SpanStatusCode.ERROR, message: 'the deliveries could not be queued; the sweeper will offer them' });
      span.end();
    }
  }

  /**
   * One batch, shared fairly among the apps with undispatched events: each app gives at most its
   * share of the batch, oldest first. In seq order alone, an event committed just after another
   * app's backlog of 5,000 waited for the whole backlog to be fanned out (about 300 ms here);
   * now it goes out in the next batch. The apps are found by a loose index scan (one probe of
   * outbox_pending's index per app), so the cost follows the number of apps, not the backlog.
   */
  private async fanOutBatch(limit: number): Promise<{ events: number; pending: DueAttempt[]; more: boolean; traced: TracedEvent[] }> {
    const now = this.clock.now();
    const rows = await queryRows<FanOutRow>(
      this.db,
      `WITH RECURSIVE apps AS (
         (SELECT app_id FROM outbox_pending ORDER BY app_id LIMIT 1)
         UNION ALL
         SELECT (SELECT p.app_id FROM outbox_pending p WHERE p.app_id > apps.app_id ORDER BY p.app_id LIMIT 1)
           FROM apps WHERE apps.app_id IS NOT NULL
       ), active AS (
         SELECT app_id FROM apps WHERE app_id IS NOT NULL
       ), share AS (
         SELECT greatest(1, $1 / greatest(1, count(*)))::int AS n FROM active
       ), batch AS (
         SELECT e.* FROM active CROSS JOIN LATERAL (
           SELECT p.event_id, p.app_id, p.type, p.scheduled_call_id, date_trunc('milliseconds', p.occurred_at) AS event_at
             FROM outbox_pending p
            WHERE p.app_id = active.app_id
            ORDER BY p.seq
            LIMIT (SELECT n FROM share)
            FOR UPDATE OF p SKIP LOCKED
         ) e
       ), marked AS (
         -- Dispatched = no longer pending: a narrow row deleted, the wide event row never rewritten.
         DELETE FROM outbox_pending p USING batch WHERE p.event_id = batch.event_id RETURNING p.event_id, p.trace_context
       ), created AS (
         -- Time-ordered ids carrying the event's millisecond: each insert lands at the right edge of
         -- the event's day, and the id alone says which partition holds the delivery.
         INSERT INTO webhook_deliveries (id, event_at, app_id, subscription_id, event_id, scheduled_call_id, event, status, attempt_count,
                                         next_attempt_at, created_at, updated_at)
         SELECT uuid_v7_at(batch.event_at), batch.event_at, batch.app_id, sub.id, batch.event_id, batch.scheduled_call_id, batch.type,
                CASE WHEN sub.status = 'paused' THEN 'held' ELSE 'pending' END, 0,
                CASE WHEN sub.status = 'paused' THEN NULL ELSE $2::timestamptz END, $2, $2
           FROM batch
           JOIN webhook_subscriptions sub ON sub.app_id = batch.app_id AND sub.events && ARRAY[batch.type, '*']
         ON CONFLICT (event_id, subscription_id, event_at) DO NOTHING
         RETURNING id, status, subscription_id
       )
       SELECT 'event' AS kind, event_id AS id, NULL::uuid AS subscription_id, NULL::int AS rate_limit_per_second, trace_context FROM marked
       UNION ALL
       -- Whether an app gave its whole share, so there may be more to fan out.
       SELECT 'full' AS kind, NULL, NULL, NULL, NULL WHERE EXISTS (
         SELECT 1 FROM batch GROUP BY app_id HAVING count(*) >= (SELECT n FROM share))
       UNION ALL
       SELECT 'delivery' AS kind, created.id, created.subscription_id, sub.rate_limit_per_second, NULL
         FROM created JOIN webhook_subscriptions sub ON sub.id = created.subscription_id
        WHERE created.status = 'pending'`,
      [limit, now],
    );
    let events = 0;
    let more = false;
    const pending: DueAttempt[] = [];
    const traced: TracedEvent[] = [];
    for (const row of rows) {
      if (row.kind === 'event') {
        events++;
        if (row.trace_context) traced.push({ eventId: row.id, traceContext: row.trace_context });
      } else if (row.kind === 'full') more = true;
      else
        pending.push({
          deliveryId: row.id,
          subscriptionId: row.subscription_id!,
          attempt: nextAttemptNumber(0),
          rateLimitPerSecond: row.rate_limit_per_second,
        });
    }
    return { events, pending, more, traced };
  }
}
