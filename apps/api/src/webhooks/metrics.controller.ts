import { Controller, Get, Header } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { Gauge, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { Clock } from '@app/shared/clock/clock';
import { DeliveryQueue } from '@app/shared/webhooks/delivery-queue';
import { OperatorOnly } from '../common/auth';

/**
 * Prometheus metrics of the whole pipeline, read from PostgreSQL and Redis at scrape time (operator
 * token). Per-attempt counters and latency histograms are on each worker's own /metrics.
 */
@ApiTags('health')
@ApiBearerAuth()
@Controller('metrics')
export class MetricsController {
  private readonly registry = new Registry();
  private readonly deliveries = new Gauge({ name: 'webhook_deliveries', help: 'Deliveries by status.', labelNames: ['status'] as const, registers: [this.registry] });
  private readonly queueDepth = new Gauge({ name: 'webhook_queue_jobs', help: 'Jobs in the delivery queue by state.', labelNames: ['state'] as const, registers: [this.registry] });
  private readonly oldestDue = new Gauge({ name: 'webhook_oldest_due_delivery_age_seconds', help: 'How long the oldest due delivery has waited (0 when none).', registers: [this.registry] });
  private readonly undispatched = new Gauge({ name: 'outbox_undispatched_events', help: 'Outbox events not fanned out yet.', registers: [this.registry] });

  constructor(@InjectDataSource() private readonly db: DataSource, private readonly queue: DeliveryQueue, private readonly clock: Clock) {}

  @Get()
  @OperatorOnly()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async metrics(): Promise<string> {
    const now = this.clock.now();
    const [byStatus, [due], [outbox]] = await Promise.all([
      this.db.query(`SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status`),
      this.db.query(`SELECT min(next_attempt_at) AS oldest FROM webhook_deliveries WHERE status IN ('pending', 'retrying') AND next_attempt_at <= $1`, [now]),
      this.db.query(`SELECT count(*)::int AS n FROM outbox_events WHERE dispatched_at IS NULL`),
    ]);
    this.deliveries.reset();
    for (const status of ['pending', 'retrying', 'succeeded', 'failed', 'held']) this.deliveries.set({ status }, 0);
    for (const row of byStatus as Array<{ status: string; n: number }>) this.deliveries.set({ status: row.status }, row.n);
    this.oldestDue.set(due.oldest ? Math.max(0, (now.getTime() - new Date(due.oldest).getTime()) / 1000) : 0);
    this.undispatched.set(outbox.n);
    try {
      const counts = await this.queue.queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
      for (const [state, n] of Object.entries(counts)) this.queueDepth.set({ state }, n);
    } catch {
      this.queueDepth.reset(); // Redis down: the health check says so; the gauges just go missing
    }
    return this.registry.metrics();
  }
}
