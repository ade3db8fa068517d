import { Injectable, Logger } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { JobsOptions, Queue } from 'bullmq';
import { DeliveryScheduler } from './delivery-scheduler';

/**
 * The one BullMQ queue of the platform: timers for deliveries due later (retries). When a job
 * fires, the worker offers its delivery to the fair scheduler; deliveries due now skip the queue.
 */
export const DELIVERY_QUEUE = 'webhook-deliveries';

/** Job payload: nothing secret and nothing the database does not already hold. */
export interface DeliveryJob {
  deliveryId: string;
  /** Absent in jobs queued before the fair scheduler: the sweeper offers those deliveries. */
  subscriptionId?: string;
  /** The trace of the attempt that scheduled this retry (tracing/trace-context.ts), so the timer's span joins it. */
  traceContext?: string;
}

/**
 * One job per attempt. BullMQ ignores an add whose id still exists, so a sweeper re-enqueueing a
 * waiting attempt is a no-op, while the next attempt (a new number) always gets its own job.
 * Finished jobs are removed so the same attempt can be queued again if it never ran to the end.
 */
export function deliveryJobId(deliveryId: string, attempt: number, manualAt?: Date): string {
  // A manual attempt gets an id of its own, so an automatic job already queued for the same
  // attempt number (say, delayed by hours) does not swallow it; the claim keeps them apart.
  return manualAt ? `${deliveryId}-${attempt}-manual-${manualAt.getTime()}` : `${deliveryId}-${attempt}`;
}

export const DELIVERY_JOB_OPTIONS: JobsOptions = {
  attempts: 1, // retries are scheduled in PostgreSQL, not by BullMQ
  removeOnComplete: true,
  removeOnFail: true,
};

// A producer never waits long for Redis: the rows are already committed and due in PostgreSQL.
const ENQUEUE_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The scheduler lane of a subscription's test sends (`POST …/test`): a lane of their own, so a
 * test goes out at once, whatever the subscription's backlog, open circuit or rate limit (none of
 * which exist for this lane), while still taking a worker slot like any delivery.
 */
export function testSendLane(subscriptionId: string): string {
  return `${subscriptionId}:test`;
}

export interface DueAttempt {
  deliveryId: string;
  subscriptionId: string;
  attempt: number;
  delayMs?: number;
  /** Set for an admin's retry. */
  manualAt?: Date;
  /** The subscription's rate limit, passed on to the scheduler when known (null: none). */
  rateLimitPerSecond?: number | null;
  /** A retry's trace (see DeliveryJob); only delayed attempts carry it, in their timer job. */
  traceContext?: string | null;
}

/**
 * Producer side. Due attempts go straight to their subscription's lane in the fair scheduler (so
 * they never wait behind another subscription's backlog in a FIFO); later ones become delayed
 * jobs. Fails fast when Redis is down: the rows stay due and the sweeper offers them later.
 */
@Injectable()
export class DeliveryQueue {
  private readonly logger = new Logger(DeliveryQueue.name);

  constructor(
    @InjectQueue(DELIVERY_QUEUE) readonly queue: Queue<DeliveryJob>,
    readonly scheduler: DeliveryScheduler,
  ) {}

  /** Returns false (and logs) when Redis could not take them; nothing is lost either way. */
  async enqueue(attempts: DueAttempt[]): Promise<boolean> {
    if (attempts.length === 0) return true;
    try {
      const now = Date.now();
      const due = attempts.filter((a) => !a.delayMs || a.delayMs <= 0);
      const later = attempts.filter((a) => a.delayMs && a.delayMs > 0);
      if (due.length > 0) {
        await withTimeout(
          this.scheduler.offer(
            due.map((a) => ({
              subscriptionId: a.subscriptionId,
              deliveryId: a.deliveryId,
              dueAt: now,
              rateLimitPerSecond: a.rateLimitPerSecond,
            })),
          ),
          ENQUEUE_TIMEOUT_MS,
        );
      }
      if (later.length > 0) {
        await withTimeout(
          this.queue.addBulk(
            later.map((a) => ({
              name: 'deliver',
              data: a.traceContext
                ? { deliveryId: a.deliveryId, subscriptionId: a.subscriptionId, traceContext: a.traceContext }
                : { deliveryId: a.deliveryId, subscriptionId: a.subscriptionId },
              opts: { ...DELIVERY_JOB_OPTIONS, jobId: deliveryJobId(a.deliveryId, a.attempt, a.manualAt), delay: a.delayMs },
            })),
          ),
          ENQUEUE_TIMEOUT_MS,
        );
      }
      return true;
    } catch (error) {
      this.logger.warn(`Could not queue ${attempts.length} delivery attempt(s) (${(error as Error).message}); the sweeper will queue them from PostgreSQL.`);
      return false;
    }
  }
}
