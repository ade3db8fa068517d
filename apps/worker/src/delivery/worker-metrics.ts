import { Counter, Histogram, Registry } from 'prom-client';

/** Worker-side Prometheus metrics; the API's /metrics adds queue depth and backlog age. */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly attempts = new Counter({
    name: 'webhook_attempts_total',
    help: 'Delivery attempts by outcome (succeeded, retrying, failed, held) and trigger.',
    labelNames: ['outcome', 'trigger'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'webhook_attempt_duration_seconds',
    help: 'Duration of one delivery attempt, request sent to response read.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly skipped = new Counter({
    name: 'webhook_jobs_skipped_total',
    help: 'Jobs that sent nothing because their delivery was not claimable (done, leased, not due, paused).',
    registers: [this.registry],
  });
}
