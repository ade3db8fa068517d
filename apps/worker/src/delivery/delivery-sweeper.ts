import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '@app/shared/clock/clock';
import { DeliveryQueue } from '@app/shared/webhooks/delivery-queue';
import { WebhookFanOut } from '@app/shared/webhooks/webhook-fan-out.service';
import { WORKER_CONFIG } from '../config/worker-config.module';
import type { WorkerConfig } from '../config/worker-config';

const REQUEUE_BATCH = 1_000;

/**
 * Makes PostgreSQL the truth: every WEBHOOK_SWEEP_INTERVAL it fans out outbox events nobody fanned
 * out (a wake-up lost with a crashed API) and re-queues deliveries that are due but idle (jobs lost
 * with a Redis flush or restart, a crashed worker's lease run out). Re-queueing a job that still
 * exists is a no-op, and a claim guards the rest, so the sweep never causes a second send.
 */
@Injectable()
export class DeliverySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeliverySweeper.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly fanOut: WebhookFanOut,
    private readonly queue: DeliveryQueue,
    private readonly clock: Clock,
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
  ) {}

  onApplicationBootstrap(): void {
    // A first pass right away: a worker starting after an outage picks up what is owed.
    this.running = this.sweep().finally(() => this.schedule());
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.fanOut.idle();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sweep().finally(() => this.schedule());
    }, this.config.sweepIntervalMs);
  }

  async sweep(): Promise<void> {
    try {
      const events = await this.fanOut.drain();
      if (events > 0) this.logger.log(`Fanned out ${events} outbox event(s) found by the sweep`);
      let requeued = 0;
      for (;;) {
        const due = await this.dueDeliveries(REQUEUE_BATCH);
        if (due.length === 0) break;
        if (!(await this.queue.enqueue(due))) break;
        requeued += due.length;
        if (due.length < REQUEUE_BATCH || this.stopped) break;
      }
      if (requeued > 0) this.logger.log(`Re-queued ${requeued} due delivery attempt(s)`);
    } catch (error) {
      this.logger.error(`Sweep failed; retrying in ${this.config.sweepIntervalMs} ms: ${(error as Error).message}`);
    }
  }

  private async dueDeliveries(limit: number): Promise<Array<{ deliveryId: string; attempt: number }>> {
    const now = this.clock.now();
    const rows: Array<{ id: string; attempt_count: number }> = await this.db.query(
      `SELECT id, attempt_count FROM webhook_deliveries
        WHERE status IN ('pending', 'retrying')
          AND next_attempt_at <= $1
          AND (lease_until IS NULL OR lease_until < $2)
        ORDER BY next_attempt_at
        LIMIT $3`,
      [new Date(now.getTime() - this.config.sweepGraceMs), now, limit],
    );
    return rows.map((row) => ({ deliveryId: row.id, attempt: row.attempt_count + 1 }));
  }
}
