import { Controller, Get, Header } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { Gauge, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { Clock } from '@app/shared/clock/clock';
import { SUBSCRIPTION_STATUSES } from '@app/shared/entities';
import { DeliveryQueue } from '@app/shared/webhooks/delivery-queue';
import { CIRCUIT_VIEWS } from '@app/shared/webhooks/subscription-health';
import { OperatorOnly } from '../common/auth';
import { ApiProblems } from '../openapi/openapi-decorators';

/**
 * Prometheus metrics of the whole pipeline, read from PostgreSQL and Redis at scrape time (operator
 * token). Per-attempt counters and latency histograms are on each worker's own /metrics.
 */
@ApiTags('health')
@ApiBearerAuth()
@Controller('metrics')
export class MetricsController {
  private readonly registry = new Registry();
  private readonly deliveries = new Gauge({ name: 'webhook_deliveries', help: 'Deliveries not finished yet, by status (pending, retrying, held). Outcomes are counted by the workers (webhook_attempts_total).', labelNames: ['status'] as const, registers: [this.registry] });
  private readonly queueDepth = new Gauge({ name: 'webhook_queue_jobs', help: 'Retry timers in the BullMQ queue by state (delayed: waiting for their time).', labelNames: ['state'] as const, registers: [this.registry] });
  private readonly lanes = new Gauge({
    name: 'webhook_scheduler_subscriptions', help: 'Subscriptions with deliveries waiting in the fair scheduler: ready (in the round) or sleeping (open circuit, rate limit).',
    labelNames: ['state'] as const, registers: [this.registry],
  });
  private readonly waiting = new Gauge({ name: 'webhook_scheduler_waiting_deliveries', help: 'Due deliveries waiting in the fair scheduler for a slot.', registers: [this.registry] });
  private readonly subscriptions = new Gauge({ name: 'webhook_subscriptions', help: 'Subscriptions by status.', labelNames: ['status'] as const, registers: [this.registry] });
  private readonly circuits = new Gauge({ name: 'webhook_circuits', help: 'Subscriptions by circuit state (closed, open, half_open).', labelNames: ['state'] as const, registers: [this.registry] });
  private readonly oldestDue = new Gauge({ name: 'webhook_oldest_due_delivery_age_seconds', help: 'How long the oldest due delivery has waited (0 when none).', registers: [this.registry] });
  private readonly undispatched = new Gauge({ name: 'outbox_undispatched_events', help: 'Outbox events not fanned out yet.', registers: [this.registry] });

  constructor(@InjectDataSource() private readonly db: DataSource, private readonly queue: DeliveryQueue, private readonly clock: Clock) {}

  @Get()
  @OperatorOnly()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ operationId: 'getMetrics', summary: 'Prometheus metrics of the delivery pipeline' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4.', schema: { type: 'string' } })
  @ApiProblems({ 403: true })
  async metrics(): Promise<string> {
    const now = this.clock.now();
    const [byStatus, [due], [outbox], subs] = await Promise.all([
      // Unfinished only: they are few and indexed; counting the succeeded would read the whole history.
      this.db.query(`SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE status IN ('pending', 'retrying', 'held') GROUP BY status`),
      this.db.query(`SELECT min(next_attempt_at) AS oldest FROM webhook_deliveries WHERE status IN ('pending', 'retrying') AND next_attempt_at <= $1`, [now]),
      this.db.query(`SELECT count(*)::int AS n FROM outbox_pending`),
      this.db.query<Array<{ status: string; circuit: string; n: number }>>(
        `SELECT status, CASE WHEN circuit_state = 'closed' THEN 'closed' WHEN circuit_retry_at > $1 THEN 'open' ELSE 'half_open' END AS circuit, count(*)::int AS n
           FROM webhook_subscriptions GROUP BY 1, 2`, [now],
      ),
    ]);
    this.subscriptions.reset();
    this.circuits.reset();
    for (const status of SUBSCRIPTION_STATUSES) this.subscriptions.set({ status }, 0);
    for (const state of CIRCUIT_VIEWS) this.circuits.set({ state }, 0);
    for (const row of subs) {
      this.subscriptions.inc({ status: row.status }, row.n);
      this.circuits.inc({ state: row.circuit }, row.n);
    }
    this.deliveries.reset();
    for (const status of ['pending', 'retrying', 'held']) this.deliveries.set({ status }, 0);
    for (const row of byStatus as Array<{ status: string; n: number }>) this.deliveries.set({ status: row.status }, row.n);
    this.oldestDue.set(due.oldest ? Math.max(0, (now.getTime() - new Date(due.oldest).getTime()) / 1000) : 0);
    this.undispatched.set(outbox.n);
    try {
      const [counts, lanes] = await Promise.all([this.queue.queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized'), this.queue.scheduler.stats()]);
      for (const [state, n] of Object.entries(counts)) this.queueDepth.set({ state }, n);
      this.lanes.set({ state: 'ready' }, lanes.ready);
      this.lanes.set({ state: 'sleeping' }, lanes.sleeping);
      this.waiting.set(lanes.waiting);
    } catch {
      // Redis down: the health check says so; the gauges just go missing
      this.queueDepth.reset();
      this.lanes.reset();
      this.waiting.reset();
    }
    return this.registry.metrics();
  }
}
