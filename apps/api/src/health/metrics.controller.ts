import { Controller, Get, Header } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Gauge, Registry } from 'prom-client';
import { Clock } from '@app/shared/clock/clock';
import { SUBSCRIPTION_STATUSES, UNFINISHED_STATUSES } from '@app/shared/entities';
import { DeliveryQueue } from '@app/shared/webhooks/delivery-queue';
import { CIRCUIT_VIEWS } from '@app/shared/webhooks/subscription-health';
import { OperatorOnly } from '../common/auth';
import { ApiProblems } from '../openapi/openapi-decorators';
import { PipelineMetricsRepository } from './pipeline-metrics.repository';

/**
 * Prometheus metrics of the whole pipeline, read from PostgreSQL and Redis at scrape time (operator
 * token). Per-attempt counters and latency histograms are on each worker's own /metrics.
 */
@ApiTags('health')
@ApiBearerAuth()
@Controller('metrics')
export class MetricsController {
  private readonly registry = new Registry();
  private readonly deliveries = new Gauge({
    name: 'webhook_deliveries',
    help: 'Deliveries not finished yet, by status (pending, retrying, held). Outcomes are counted by the workers (webhook_attempts_total).',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  private readonly queueDepth = new Gauge({
    name: 'webhook_queue_jobs',
    help: 'Retry timers in the BullMQ queue by state (delayed: waiting for their time).',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  private readonly lanes = new Gauge({
    name: 'webhook_scheduler_subscriptions',
    help: 'Subscriptions with deliveries waiting in the fair scheduler: ready (in the round) or sleeping (open circuit, rate limit).',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  private readonly waiting = new Gauge({
    name: 'webhook_scheduler_waiting_deliveries',
    help: 'Due deliveries waiting in the fair scheduler for a slot.',
    registers: [this.registry],
  });
  private readonly subscriptions = new Gauge({
    name: 'webhook_subscriptions',
    help: 'Subscriptions by status.',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  private readonly circuits = new Gauge({
    name: 'webhook_circuits',
    help: 'Subscriptions by circuit state (closed, open, half_open).',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  private readonly oldestDue = new Gauge({
    name: 'webhook_oldest_due_delivery_age_seconds',
    help: 'How long the oldest due delivery has waited (0 when none).',
    registers: [this.registry],
  });
  private readonly undispatched = new Gauge({ name: 'outbox_undispatched_events', help: 'Outbox events not fanned out yet.', registers: [this.registry] });

  constructor(
    private readonly pipeline: PipelineMetricsRepository,
    private readonly queue: DeliveryQueue,
    private readonly clock: Clock,
  ) {}

  @Get()
  @OperatorOnly()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ operationId: 'getMetrics', summary: 'Prometheus metrics of the delivery pipeline' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4.', schema: { type: 'string' } })
  @ApiProblems({ 403: true })
  async metrics(): Promise<string> {
    const now = this.clock.now();
    const snapshot = await this.pipeline.snapshot(now);
    this.subscriptions.reset();
    this.circuits.reset();
    for (const status of SUBSCRIPTION_STATUSES) this.subscriptions.set({ status }, 0);
    for (const state of CIRCUIT_VIEWS) this.circuits.set({ state }, 0);
    for (const row of snapshot.subscriptions) {
      this.subscriptions.inc({ status: row.status }, row.n);
      this.circuits.inc({ state: row.circuit }, row.n);
    }
    this.deliveries.reset();
    for (const status of UNFINISHED_STATUSES) this.deliveries.set({ status }, 0);
    for (const row of snapshot.unfinished) this.deliveries.set({ status: row.status }, row.n);
    this.oldestDue.set(snapshot.oldestDueAt ? Math.max(0, (now.getTime() - snapshot.oldestDueAt.getTime()) / 1000) : 0);
    this.undispatched.set(snapshot.undispatched);
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
