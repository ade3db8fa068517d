import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ConnectionOptions, Job, Worker } from 'bullmq';
import { Clock } from '@app/shared/clock/clock';
import { DELIVERY_QUEUE, DeliveryJob, DeliveryQueue } from '@app/shared/webhooks/delivery-queue';
import { consumerConnection } from '@app/shared/webhooks/queue-connection';
import { SecretBox } from '@app/shared/webhooks/secret-box';
import { WORKER_CONFIG } from '../config/worker-config.module';
import type { WorkerConfig } from '../config/worker-config';
import { ClaimedDelivery, DeliveryAttemptsRepository } from './delivery-attempts.repository';
import { WebhookSender } from './webhook-sender';
import { WorkerMetrics } from './worker-metrics';

/** Queue consumers per process; WORKER_CONCURRENCY is shared among them. */
const FETCHERS = 4;

/**
 * Consumes the delivery queue: claim the row, POST, log the attempt, queue the next one.
 * The BullMQ Worker is built here rather than with @Processor so that its concurrency and lock
 * come from the validated configuration. The job lock outlives the HTTP timeout, so a live
 * worker's job is never taken over; the row lease guards the rest.
 */
@Injectable()
export class WebhookDeliveryProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDeliveryProcessor.name);
  private readonly sender: WebhookSender;
  private readonly secrets: SecretBox;
  private workers: Array<Worker<DeliveryJob>> = [];

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    private readonly attempts: DeliveryAttemptsRepository,
    private readonly queue: DeliveryQueue,
    private readonly clock: Clock,
    private readonly metrics: WorkerMetrics,
  ) {
    this.sender = new WebhookSender(config.webhooks, config.concurrency);
    this.secrets = new SecretBox(config.secretsKey);
    this.attempts.configure(config.webhooks, config.webhooks.timeoutMs + config.leaseMarginMs);
  }

  onApplicationBootstrap(): void {
    const lockDuration = this.config.webhooks.timeoutMs + this.config.leaseMarginMs + 5_000;
    // A BullMQ Worker takes jobs off the queue one at a time (a Redis round trip each), so a batch
    // queued by one fan-out waited for the jobs before it to be fetched: 20-50 ms for the last of a
    // batch at 1,000 events/s. Several consumers share the process's concurrency and fetch in parallel.
    const consumers = Math.min(FETCHERS, this.config.concurrency);
    this.workers = Array.from({ length: consumers }, (_, i) => {
      const worker = new Worker<DeliveryJob>(DELIVERY_QUEUE, (job) => this.process(job), {
        connection: consumerConnection(this.config.redisUrl) as ConnectionOptions,
        prefix: this.config.queuePrefix,
        concurrency: Math.floor(this.config.concurrency / consumers) + (i < this.config.concurrency % consumers ? 1 : 0),
        lockDuration,
        stalledInterval: lockDuration,
        maxStalledCount: 10,
      });
      worker.on('error', (error) => this.logger.warn(`Queue connection problem (the worker reconnects by itself): ${error.message}`));
      return worker;
    });
  }

  /** SIGTERM: stop taking jobs, let the attempts in flight finish and be logged, then exit. */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
    await this.sender.close();
  }

  async process(job: Job<DeliveryJob>): Promise<void> {
    const claim = await this.attempts.claim(job.data.deliveryId, this.clock.now());
    if (!claim) {
      this.metrics.skipped.inc();
      return;
    }
    const result = await this.sender.send(
      {
        url: claim.url,
        subscriptionId: claim.subscriptionId,
        eventId: claim.eventId,
        event: claim.event,
        attempt: claim.attempt,
        payloadJson: claim.payloadJson,
        secret: this.secrets.open(claim.secretCiphertext, claim.subscriptionId),
        previousSecret: this.previousSecret(claim),
      },
      () => this.clock.now(),
    );
    const outcome = await this.attempts.record(claim, result);
    this.metrics.attempts.inc({ outcome: outcome.status, trigger: claim.trigger });
    this.metrics.latency.observe(result.durationMs / 1000);
    if (!result.ok) {
      this.logger.log(`Delivery ${claim.id} attempt ${claim.attempt} failed (${result.error}); now ${outcome.status}`);
    }
    if (outcome.status === 'retrying') {
      await this.queue.enqueue([{ deliveryId: claim.id, attempt: outcome.nextAttempt, delayMs: outcome.delayMs }]);
    }
  }

  private previousSecret(claim: ClaimedDelivery): string | null {
    if (!claim.previousSecretCiphertext || !claim.previousSecretExpiresAt) return null;
    if (claim.previousSecretExpiresAt.getTime() <= this.clock.now().getTime()) return null;
    return this.secrets.open(claim.previousSecretCiphertext, claim.subscriptionId);
  }
}
