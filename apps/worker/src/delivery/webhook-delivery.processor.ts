import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ROOT_CONTEXT, Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Job, Worker } from 'bullmq';
import { Clock } from '@app/shared/clock/clock';
import type { LogFields } from '@app/shared/logging/log-context';
import { DELIVERY_QUEUE, DeliveryJob, DeliveryQueue } from '@app/shared/webhooks/delivery-queue';
import { DeliveryScheduler, TakenDelivery } from '@app/shared/webhooks/delivery-scheduler';
import { DnsCache } from '@app/shared/webhooks/dns-cache';
import type { RedisClient } from '@app/shared/redis/redis-connection';
import { parseTraceContext, serializeTraceContext } from '@app/shared/tracing/trace-context';
import { Tracing } from '@app/shared/tracing/tracing';
import { consumerConnection } from '@app/shared/webhooks/queue-connection';
import { SecretBox } from '@app/shared/webhooks/secret-box';
import { WORKER_CONFIG } from '../config/worker-config.module';
import type { WorkerConfig } from '../config/worker-config';
import { ClaimedDelivery, DeliveryAttemptsRepository, RecordOutcome } from './delivery-attempts.repository';
import { SendResult, WebhookSender } from './webhook-sender';
import { WorkerMetrics } from './worker-metrics';

/** Timer jobs are one Redis script each (an offer): a few in parallel keep up with any schedule. */
const TIMER_CONCURRENCY = 16;

/**
 * One delivery attempt, start to end: claim the row, POST, log the attempt, schedule the next one.
 * Whatever goes wrong between the claim and the record (a secret that cannot be decrypted, a bug)
 * becomes a failed attempt with its error, so no delivery loops or waits without a trace.
 *
 * It also consumes the BullMQ queue, which only holds timers for attempts due later (retries):
 * a fired timer offers its delivery to the fair scheduler.
 */
@Injectable()
export class WebhookDeliveryProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDeliveryProcessor.name);
  private readonly sender: WebhookSender;
  private readonly secrets: SecretBox;
  private timers: Worker<DeliveryJob> | undefined;
  private timersConnection: RedisClient | undefined;

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    private readonly attempts: DeliveryAttemptsRepository,
    private readonly queue: DeliveryQueue,
    private readonly scheduler: DeliveryScheduler,
    private readonly clock: Clock,
    private readonly metrics: WorkerMetrics,
    private readonly tracing: Tracing,
  ) {
    const dns = new DnsCache({ timeoutMs: Math.min(5_000, config.webhooks.timeoutMs) });
    this.sender = new WebhookSender(config.webhooks, config.concurrency, dns, tracing.enabled ? tracing.tracer : undefined);
    this.secrets = new SecretBox(config.secretsKey);
  }

  onApplicationBootstrap(): void {
    // BullMQ duplicates this (lazy) client for its own connections; on a cluster the prefix carries a hash tag.
    this.timersConnection = consumerConnection(this.config.redisUrl, { lazyConnect: true });
    this.timers = new Worker<DeliveryJob>(DELIVERY_QUEUE, (job) => this.fire(job), {
      connection: this.timersConnection,
      prefix: this.config.queuePrefix,
      concurrency: TIMER_CONCURRENCY,
    });
    this.timers.on('error', (error) => {
      this.metrics.queueErrors.inc();
      this.logger.warn(`Queue connection problem (the worker reconnects by itself): ${error.message}`);
    });
    this.timers.on('failed', (job, error) => {
      this.metrics.queueJobFailures.inc();
      this.logger.error(
        `Timer job ${job?.id ?? '?'} failed (${error.message}); the sweeper offers its delivery from PostgreSQL`,
        error,
        job ? jobLogFields(job) : {},
      );
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.timers?.close();
    this.timersConnection?.disconnect();
    await this.sender.close();
  }

  /** A retry's time has come: its delivery joins its subscription's lane. */
  private async fire(job: Job<DeliveryJob>): Promise<void> {
    if (!job.data.subscriptionId) return; // queued by an older version: the sweeper offers it
    const offer = () => this.scheduler.offer([{ subscriptionId: job.data.subscriptionId!, deliveryId: job.data.deliveryId, dueAt: Date.now() }]);
    const parent = this.tracing.enabled ? parseTraceContext(job.data.traceContext) : undefined;
    if (!parent) {
      await offer();
      return;
    }
    const span = this.tracing.tracer.startSpan(
      'webhook retry timer',
      {
        kind: SpanKind.CONSUMER,
        attributes: { 'scw.delivery.id': job.data.deliveryId, 'scw.subscription.id': job.data.subscriptionId },
      },
      parent,
    );
    try {
      await offer();
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  }

  /** One attempt of a delivery taken from the scheduler. Never throws: every outcome is recorded, logged or counted. */
  async deliver(taken: TakenDelivery): Promise<void> {
    const takenAt = this.tracing.enabled ? new Date() : undefined;
    let claim: ClaimedDelivery | null;
    try {
      claim = await this.attempts.claim(taken.deliveryId, this.clock.now());
    } catch (error) {
      // Nothing was sent; the row is still due and the sweeper offers it again.
      this.metrics.errors.inc({ stage: 'claim' });
      this.logger.error(`Could not claim delivery ${taken.deliveryId}; the sweep retries it: ${(error as Error).message}`, error, {
        delivery_id: taken.deliveryId,
        subscription_id: taken.subscriptionId,
      });
      return;
    }
    if (!claim) {
      this.metrics.skipped.inc();
      return;
    }
    if (claim.interrupted) this.metrics.interrupted.inc();
    const span = takenAt ? this.startAttemptSpan(claim, takenAt) : undefined;
    try {
      await this.attemptAndRecord(claim, span);
    } finally {
      span?.end();
    }
  }

  /**
   * The span of one attempt (claim to recorded outcome), in the trace of the booking change the
   * event came from, read from the event in the claim: retries, sweeps and manual retries all
   * land in that trace, whichever worker runs them, with one span per attempt. An event written
   * while tracing was off starts a trace of its own.
   */
  private startAttemptSpan(claim: ClaimedDelivery, takenAt: Date): Span {
    return this.tracing.tracer.startSpan(
      'webhook delivery attempt',
      {
        kind: SpanKind.CONSUMER,
        startTime: takenAt,
        attributes: {
          'scw.delivery.id': claim.id,
          'scw.subscription.id': claim.subscriptionId,
          'scw.event.id': claim.eventId,
          'scw.event.type': claim.event,
          'scw.delivery.attempt': claim.attempt,
          'scw.delivery.trigger': claim.trigger,
        },
      },
      parseTraceContext(claim.traceContext) ?? ROOT_CONTEXT,
    );
  }

  private async attemptAndRecord(claim: ClaimedDelivery, span: Span | undefined): Promise<void> {
    const result = await this.attempt(claim, span);
    let outcome: RecordOutcome;
    try {
      outcome = await this.attempts.record(claim, result);
    } catch (error) {
      // The lease stays until it runs out; the next claim logs this attempt as interrupted.
      this.metrics.errors.inc({ stage: 'record' });
      this.logger.error(
        `Could not record attempt ${claim.attempt} of delivery ${claim.id}; it is retried when its lease runs out: ${(error as Error).message}`,
        error,
        claimLogFields(claim),
      );
      span?.setStatus({ code: SpanStatusCode.ERROR, message: `the outcome could not be recorded: ${(error as Error).message}` });
      return;
    }
    if (span) {
      span.setAttribute('scw.delivery.status', outcome.status);
      if (!result.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: result.error ?? undefined });
    }
    this.metrics.attempts.inc({ outcome: outcome.status, trigger: claim.trigger });
    this.metrics.latency.observe(result.durationMs / 1000);
    if (!result.ok) {
      this.logger.log(`Delivery ${claim.id} attempt ${claim.attempt} failed (${result.error}); now ${outcome.status}`, claimLogFields(claim));
    }
    if (outcome.circuit) await this.moveCircuit(claim.subscriptionId, outcome.circuit.retryAt);
    if (outcome.status === 'retrying') {
      await this.queue.enqueue([
        {
          deliveryId: claim.id,
          subscriptionId: claim.subscriptionId,
          attempt: outcome.nextAttempt,
          delayMs: outcome.delayMs,
          traceContext: span ? serializeTraceContext(trace.setSpan(ROOT_CONTEXT, span)) : null,
        },
      ]);
    }
  }

  /** The HTTP attempt, or a failed result carrying the error that prevented it. */
  private async attempt(claim: ClaimedDelivery, span: Span | undefined): Promise<SendResult> {
    const startedAt = this.clock.now();
    try {
      return await this.sender.send(
        {
          url: claim.url,
          subscriptionId: claim.subscriptionId,
          eventId: claim.eventId,
          event: claim.event,
          attempt: claim.attempt,
          payloadJson: claim.payloadJson,
          test: claim.trigger === 'test',
          secret: this.openSecret(claim.secretCiphertext, claim.subscriptionId),
          previousSecret: this.previousSecret(claim),
        },
        () => this.clock.now(),
        span ? trace.setSpan(ROOT_CONTEXT, span) : undefined,
      );
    } catch (error) {
      this.metrics.errors.inc({ stage: 'attempt' });
      const message = `internal error: ${(error as Error).message}`;
      this.logger.error(`Delivery ${claim.id} attempt ${claim.attempt} could not be sent (${message})`, error, claimLogFields(claim));
      return {
        ok: false,
        failure: 'internal',
        startedAt,
        durationMs: Date.now() - startedAt.getTime(),
        status: null,
        body: null,
        error: message,
        retryAfterMs: null,
        requestHeaders: null,
        responseHeaders: null,
      };
    }
  }

  private async moveCircuit(subscriptionId: string, retryAt: Date | null): Promise<void> {
    this.metrics.circuitTransitions.inc({ to: retryAt ? 'open' : 'closed' });
    this.logger.log(
      retryAt
        ? `Circuit of subscription ${subscriptionId} open: no attempt before ${retryAt.toISOString()}, then one probe`
        : `Circuit of subscription ${subscriptionId} closed`,
      { subscription_id: subscriptionId },
    );
    try {
      await this.scheduler.setCircuit(subscriptionId, retryAt);
    } catch (error) {
      // PostgreSQL has it; the sweep mirrors open circuits into Redis again.
      this.logger.warn(`Could not update the scheduler's circuit of ${subscriptionId}: ${(error as Error).message}`, { subscription_id: subscriptionId });
    }
  }

  private openSecret(sealed: Buffer, subscriptionId: string): string {
    try {
      return this.secrets.open(sealed, subscriptionId);
    } catch {
      throw new Error('the subscription secret cannot be decrypted (was SECRETS_KEY changed?)');
    }
  }

  private previousSecret(claim: ClaimedDelivery): string | null {
    if (!claim.previousSecretCiphertext || !claim.previousSecretExpiresAt) return null;
    if (claim.previousSecretExpiresAt.getTime() <= this.clock.now().getTime()) return null;
    return this.openSecret(claim.previousSecretCiphertext, claim.subscriptionId);
  }
}

/**
 * The fields of every line about an attempt. Passed explicitly rather than through an
 * AsyncLocalStorage: on Node 20 an active AsyncLocalStorage hooks every promise, and that added
 * 2 to 7 ms to the p50 of bench:isolation's healthy deliveries.
 */
function claimLogFields(claim: ClaimedDelivery): LogFields {
  return { delivery_id: claim.id, subscription_id: claim.subscriptionId, event_id: claim.eventId, attempt: claim.attempt };
}

/** A timer job's lines carry its delivery's ids, as an attempt's do. */
function jobLogFields(job: Job<DeliveryJob>): LogFields {
  return { delivery_id: job.data.deliveryId, ...(job.data.subscriptionId ? { subscription_id: job.data.subscriptionId } : {}) };
}
