import { readWorkerConfig } from './worker-config';

describe('readWorkerConfig', () => {
  it('binds the unauthenticated /metrics to loopback unless told otherwise', () => {
    expect(readWorkerConfig({}).metricsHost).toBe('127.0.0.1');
    expect(readWorkerConfig({ WORKER_METRICS_HOST: '0.0.0.0' }).metricsHost).toBe('0.0.0.0');
  });

  it('reads the circuit breaker settings with the SPEC defaults', () => {
    expect(readWorkerConfig({}).webhooks).toMatchObject({ circuitFailureThreshold: 5, circuitCooldownMs: 30_000, circuitMaxCooldownMs: 600_000 });
    expect(readWorkerConfig({ WEBHOOK_CIRCUIT_FAILURES: '2', WEBHOOK_CIRCUIT_COOLDOWN: '1s', WEBHOOK_CIRCUIT_MAX_COOLDOWN: '1m' }).webhooks).toMatchObject({
      circuitFailureThreshold: 2,
      circuitCooldownMs: 1_000,
      circuitMaxCooldownMs: 60_000,
    });
  });

  it('keeps 30 days of history by default, and refuses a retention under a day or within the retry schedule', () => {
    expect(readWorkerConfig({}).webhooks.retentionMs).toBe(30 * 86_400_000);
    expect(readWorkerConfig({ WEBHOOK_RETENTION: '7d' }).webhooks.retentionMs).toBe(7 * 86_400_000);
    expect(() => readWorkerConfig({ WEBHOOK_RETENTION: '12h' })).toThrow(/WEBHOOK_RETENTION must be at least 1d/);
    expect(() => readWorkerConfig({ WEBHOOK_RETENTION: '1d', WEBHOOK_RETRY_SCHEDULE: '0s,1d,1d' })).toThrow(/longer than the retry schedule \(48 h\)/);
    expect(readWorkerConfig({}).historyMaintenanceIntervalMs).toBe(3_600_000);
  });
});
