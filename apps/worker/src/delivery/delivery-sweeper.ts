import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '@app/shared/clock/clock';
import { testSendLane } from '@app/shared/webhooks/delivery-queue';
import { DeliveryScheduler } from '@app/shared/webhooks/delivery-scheduler';
import { WebhookFanOut } from '@app/shared/webhooks/webhook-fan-out.service';
import { WORKER_CONFIG } from '../config/worker-config.module';
import type { WorkerConfig } from '../config/worker-config';
import { PeriodicLoop } from '../periodic-loop';
import { DeliverySweepRepository, SweepPosition } from './delivery-sweep.repository';

const REQUEUE_BATCH = 1_000;

/**
 * Makes PostgreSQL the truth: every WEBHOOK_SWEEP_INTERVAL it fans out outbox events nobody fanned
 * out (a wake-up lost with a crashed API), puts open circuits back into Redis, and offers the
 * scheduler deliveries that are due but idle (lost with a Redis flush or restart, a crashed
 * worker's lease run out). Offering a delivery already waiting is a no-op, and a claim guards the
 * rest, so the sweep never causes a second send.
 */
@Injectable()
export class DeliverySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeliverySweeper.name);
  private readonly loop: PeriodicLoop;

  constructor(
    private readonly deliveries: DeliverySweepRepository,
    private readonly fanOut: WebhookFanOut,
    private readonly scheduler: DeliveryScheduler,
    private readonly clock: Clock,
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
  ) {
    this.loop = new PeriodicLoop(config.sweepIntervalMs, () => this.sweep());
  }

  onApplicationBootstrap(): void {
    // A first pass right away: a worker starting after an outage picks up what is owed.
    this.loop.start(true);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
    await this.fanOut.idle();
  }

  /** Resolves once the pass in progress (if any) is over. */
  idle(): Promise<void> {
    return this.loop.idle();
  }

  async sweep(): Promise<void> {
    try {
      const events = await this.fanOut.drain();
      if (events > 0) this.logger.log(`Fanned out ${events} outbox event(s) found by the sweep`);
      await this.mirrorOpenCircuits();
      const offered = await this.offerDueDeliveries();
      if (offered > 0) this.logger.log(`Offered ${offered} due delivery attempt(s) the scheduler had lost`);
    } catch (error) {
      this.logger.error(`Sweep failed; retrying in ${this.config.sweepIntervalMs} ms: ${(error as Error).message}`);
    }
  }

  /**
   * Offers every delivery due for longer than the grace and not leased to the scheduler, paging by
   * key: each row is read and offered once per pass however many there are, and an offer of a
   * delivery already waiting in its lane changes nothing, so a backlog costs one pass's reads, not
   * a churn of re-queues. Subscriptions whose circuit is open are skipped until their probe is due.
   * Returns how many deliveries were new to the scheduler.
   */
  private async offerDueDeliveries(): Promise<number> {
    const now = this.clock.now();
    const dueBefore = new Date(now.getTime() - this.config.sweepGraceMs);
    let after: SweepPosition | null = null;
    let added = 0;
    while (!this.loop.isStopped) {
      const rows = await this.deliveries.idleDue(dueBefore, now, after, REQUEUE_BATCH);
      if (rows.length === 0) break;
      added += await this.scheduler.offer(
        rows.map((row) =>
          row.test
            ? { subscriptionId: testSendLane(row.subscriptionId), deliveryId: row.id, dueAt: row.dueAt.getTime() }
            : { subscriptionId: row.subscriptionId, deliveryId: row.id, dueAt: row.dueAt.getTime(), rateLimitPerSecond: row.rateLimitPerSecond },
        ),
      );
      after = rows[rows.length - 1].position;
      if (rows.length < REQUEUE_BATCH) break;
    }
    return added;
  }

  /** PostgreSQL holds the circuits; Redis forgets them in a flush. Open ones are put back (an existing copy wins). */
  private async mirrorOpenCircuits(): Promise<void> {
    for (const open of await this.deliveries.openCircuits()) await this.scheduler.setCircuit(open.subscriptionId, open.retryAt, 'mirror');
  }
}
