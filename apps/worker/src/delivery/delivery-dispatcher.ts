import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { RedisClient } from '@app/shared/redis/redis-connection';
import { DeliveryScheduler, TakenDelivery } from '@app/shared/webhooks/delivery-scheduler';
import { consumerConnection } from '@app/shared/webhooks/queue-connection';
import { WORKER_CONFIG } from '../config/worker-config.module';
import type { WorkerConfig } from '../config/worker-config';
import { WebhookDeliveryProcessor } from './webhook-delivery.processor';
import { WorkerMetrics } from './worker-metrics';

/** A missed wake-up (a reconnecting subscriber, a worker that died holding slots) costs at most this. */
const POLL_MS = 1_000;
const HEARTBEAT_MS = 1_000;
const REDIS_RETRY_MS = 1_000;

/**
 * The worker's WORKER_CONCURRENCY slots, filled from the fair scheduler: whenever a slot is free
 * it asks Redis for work (one script call releases the finished deliveries' slots and takes new
 * ones), woken by offers anywhere (pub/sub), by its own attempts ending, by the time a sleeping
 * subscription is due back, and by a slow poll.
 */
@Injectable()
export class DeliveryDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeliveryDispatcher.name);
  readonly workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly leaseMs: number;
  private inFlight = 0;
  private releases: Array<{ subscriptionId: string; token: string }> = [];
  private pumping = false;
  private again = false;
  private stopped = false;
  private subscriber: RedisClient | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeTimerAt = Infinity;
  private redisDownSince: number | null = null;
  private drained: (() => void) | undefined;

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    private readonly scheduler: DeliveryScheduler,
    private readonly processor: WebhookDeliveryProcessor,
    private readonly metrics: WorkerMetrics,
  ) {
    this.leaseMs = config.webhooks.timeoutMs + config.leaseMarginMs;
  }

  onApplicationBootstrap(): void {
    this.subscriber = this.scheduler.subscribe(consumerConnection(this.config.redisUrl), () => this.wake());
    this.heartbeat();
    this.heartbeatTimer = setInterval(() => this.heartbeat(), HEARTBEAT_MS);
    this.pollTimer = setInterval(() => this.wake(), POLL_MS);
    this.wake();
  }

  /** SIGTERM: take nothing more, let the attempts in flight finish and be recorded, give the slots back. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.wakeTimer);
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    while (this.pumping) await new Promise((resolve) => setTimeout(resolve, 5));
    await this.scheduler.cycle(this.workerId, 0, this.leaseMs, this.releases.splice(0)).catch(() => undefined);
    await this.scheduler.register(this.workerId, 0).catch(() => undefined);
    this.subscriber?.disconnect();
  }

  /** Asks for work soon; calls made meanwhile fold into one script call. */
  wake(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    setImmediate(() => void this.pump());
  }

  private async pump(): Promise<void> {
    try {
      do {
        this.again = false;
        const want = this.stopped ? 0 : this.config.concurrency - this.inFlight;
        const releases = this.releases.splice(0);
        if (want <= 0 && releases.length === 0) break;
        let result;
        try {
          result = await this.scheduler.cycle(this.workerId, want, this.leaseMs, releases);
        } catch (error) {
          this.releases.unshift(...releases);
          this.redisUnavailable(error as Error);
          return;
        }
        if (this.redisDownSince !== null) {
          this.logger.log('Redis answers again; taking deliveries');
          this.redisDownSince = null;
        }
        for (const taken of result.taken) this.run(taken);
        if (result.wakeAt !== null) this.wakeAt(result.wakeAt - result.now);
        // A full hand means there may be more; otherwise wait for a wake-up.
        if (want > 0 && result.taken.length === want) this.again = true;
      } while (this.again && !this.stopped);
    } finally {
      this.pumping = false;
    }
  }

  private run(taken: TakenDelivery): void {
    this.inFlight++;
    this.metrics.inFlight.set(this.inFlight);
    // deliver() records every outcome itself; this catch is for a bug in it, never expected.
    void this.processor
      .deliver(taken)
      .catch((error: Error) => {
        this.metrics.errors.inc({ stage: 'dispatch' });
        this.logger.error(`Delivery ${taken.deliveryId} ended with an unexpected error: ${error.message}`, error, {
          delivery_id: taken.deliveryId,
          subscription_id: taken.subscriptionId,
        });
      })
      .finally(() => {
        this.inFlight--;
        this.metrics.inFlight.set(this.inFlight);
        this.releases.push({ subscriptionId: taken.subscriptionId, token: taken.token });
        if (this.stopped && this.inFlight === 0) this.drained?.();
        else this.wake();
      });
  }

  /** A sleeping subscription (open circuit, rate limit) is due back in `delayMs`. */
  private wakeAt(delayMs: number): void {
    const at = Date.now() + Math.max(0, delayMs);
    if (at >= this.wakeTimerAt && this.wakeTimer) return;
    clearTimeout(this.wakeTimer);
    this.wakeTimerAt = at;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.wakeTimerAt = Infinity;
        this.wake();
      },
      Math.max(0, delayMs) + 1,
    );
  }

  private heartbeat(): void {
    this.scheduler.register(this.workerId, this.config.concurrency).catch(() => undefined);
  }

  private redisUnavailable(error: Error): void {
    if (this.redisDownSince === null) {
      this.redisDownSince = Date.now();
      this.logger.warn(
        `Cannot take deliveries from Redis (${error.message}); retrying every ${REDIS_RETRY_MS} ms. Nothing is lost: PostgreSQL keeps them due.`,
      );
    }
    if (!this.stopped) setTimeout(() => this.wake(), REDIS_RETRY_MS);
  }
}
