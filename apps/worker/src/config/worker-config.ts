import { Env, EnvReader } from '@app/shared/config/env-parsers';
import { readSharedConfig, SharedConfig } from '@app/shared/config/shared-config';
import { readTracingConfig, TracingConfig } from '@app/shared/tracing/tracing-config';

/** The worker process's settings, read once at boot from the environment (SPEC §7). */
export interface WorkerConfig extends SharedConfig {
  /** How often the no-show detector looks for calls past their grace window. */
  noShowIntervalMs: number;
  /** Deliveries in flight per worker process. */
  concurrency: number;
  /** How often the sweeper fans out missed outbox events and re-queues due deliveries. */
  sweepIntervalMs: number;
  /** A due delivery is re-queued by the sweeper only once it has waited this long (its job may just be queued). */
  sweepGraceMs: number;
  /** How long a claim outlives the HTTP timeout before another worker may take the delivery over. */
  leaseMarginMs: number;
  /** Port of the worker's Prometheus /metrics endpoint; 0 turns it off. */
  metricsPort: number;
  /** Address /metrics listens on: loopback unless the operator exposes it (it has no authentication). */
  metricsHost: string;
  /** How often history partitions are created ahead and expired days dropped; 0 turns it off (tests). */
  historyMaintenanceIntervalMs: number;
  /** OpenTelemetry (OTEL_*): off unless OTEL_EXPORTER_OTLP_ENDPOINT is set. */
  tracing: TracingConfig;
}

export function readWorkerConfig(env: Env = process.env): WorkerConfig {
  const reader = new EnvReader(env);
  const shared = readSharedConfig(reader, env);
  const config: WorkerConfig = {
    ...shared,
    noShowIntervalMs: reader.duration('NO_SHOW_INTERVAL', '1s'),
    concurrency: reader.int('WORKER_CONCURRENCY', 50, 1, 1_000),
    sweepIntervalMs: reader.duration('WEBHOOK_SWEEP_INTERVAL', '5s'),
    sweepGraceMs: reader.duration('WEBHOOK_SWEEP_GRACE', '30s'),
    leaseMarginMs: reader.duration('WEBHOOK_LEASE_MARGIN', '10s'),
    metricsPort: reader.int('WORKER_METRICS_PORT', 9464, 0, 65535),
    metricsHost: reader.string('WORKER_METRICS_HOST', '127.0.0.1'),
    historyMaintenanceIntervalMs: reader.duration('HISTORY_MAINTENANCE_INTERVAL', '1h'),
    tracing: readTracingConfig(reader, 'scheduled-calls-worker'),
  };
  reader.assertValid('worker');
  return config;
}
