import { Injectable, Logger } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { JobsOptions, Queue } from 'bullmq';

/** The one queue of the platform: wake-ups for webhook deliveries. */
export const DELIVERY_QUEUE = 'webhook-deliveries';

/** Job payload: nothing secret and nothing the database does not already hold. */
export interface DeliveryJob {
  deliveryId: string;
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

export interface DueAttempt {
  deliveryId: string;
  attempt: number;
  delayMs?: number;
  /** Set for an admin's retry. */
  manualAt?: Date;
}

/** Producer side. Fails fast when Redis is down: the rows stay due and the sweeper queues them later. */
@Injectable()
export class DeliveryQueue {
  private readonly logger = new Logger(DeliveryQueue.name);

  constructor(@InjectQueue(DELIVERY_QUEUE) readonly queue: Queue<DeliveryJob>) {}

  /** Returns false (and logs) when Redis could not take the jobs; nothing is lost either way. */
  async enqueue(attempts: DueAttempt[]): Promise<boolean> {
    if (attempts.length === 0) return true;
    try {
      await withTimeout(this.queue.addBulk(
        attempts.map((a) => ({
          name: 'deliver',
          data: { deliveryId: a.deliveryId },
          opts: { ...DELIVERY_JOB_OPTIONS, jobId: deliveryJobId(a.deliveryId, a.attempt, a.manualAt), delay: a.delayMs && a.delayMs > 0 ? a.delayMs : undefined },
        })),
      ), ENQUEUE_TIMEOUT_MS);
      return true;
    } catch (error) {
      this.logger.warn(`Could not queue ${attempts.length} delivery attempt(s) (${(error as Error).message}); the sweeper will queue them from PostgreSQL.`);
      return false;
    }
  }
}
