import { Counter, Gauge, Histogram, Registry } from 'prom-client';

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
    help: 'Deliveries taken from the scheduler that sent nothing because they were not claimable (done, leased, not due, paused).',
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'webhook_deliveries_in_flight',
    help: 'Delivery attempts this worker is running now (at most WORKER_CONCURRENCY).',
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'webhook_worker_errors_total',
    help: 'Errors inside the worker by stage: claim and record (database), attempt (recorded as a failed attempt), dispatch (a bug), maintenance (history partitions).',
    labelNames: ['stage'] as const,
    registers: [this.registry],
  });
  readonly interrupted = new Counter({
    name: 'webhook_attempts_interrupted_total',
    help: 'Attempts whose worker stopped before recording them, logged when another worker took the delivery over.',
    registers: [this.registry],
  });
  readonly circuitTransitions = new Counter({
    name: 'webhook_circuit_transitions_total',
    help: 'Circuit breaker transitions recorded by this worker (to: open, closed).',
    labelNames: ['to'] as const,
    registers: [this.registry],
  });
  readonly queueErrors = new Counter({
    name: 'webhook_queue_errors_total',
    help: 'BullMQ connection errors of the retry-timer consumer.',
    registers: [this.registry],
  });
  readonly queueJobFailures = new Counter({
    name: 'webhook_queue_job_failures_total',
    help: 'BullMQ timer jobs that failed (their deliveries are offered again by the sweep).',
    registers: [this.registry],
  });
  readonly expiredDeliveries = new Counter({
    name: 'webhook_deliveries_expired_total',
    help: 'Deliveries still pending, retrying or held when their event passed WEBHOOK_RETENTION: ended as failed, with an attempt saying so.',
    registers: [this.registry],
  });
  readonly expiredEvents = new Counter({
    name: 'outbox_events_expired_total',
    help: 'Events that were never fanned out when they passed WEBHOOK_RETENTION.',
    registers: [this.registry],
  });
  readonly droppedWeeks = new Counter({
    name: 'history_weeks_dropped_total',
    help: 'Weeks of history (partitions of events, deliveries and attempts) removed for being older than WEBHOOK_RETENTION.',
    registers: [this.registry],
  });
}
