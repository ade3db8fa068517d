import { readWorkerConfig } from './worker-config';

describe('readWorkerConfig', () => {
  it('binds the unauthenticated /metrics to loopback unless told otherwise', () => {
    expect(readWorkerConfig({}).metricsHost).toBe('127.0.0.1');
    expect(readWorkerConfig({ WORKER_METRICS_HOST: '0.0.0.0' }).metricsHost).toBe('0.0.0.0');
  });

  it('reads the circuit breaker settings with the SPEC defaults', () => {
    expect(readWorkerConfig({}).webhooks).toMatchObject({ circuitFailureThreshold: 5, circuitCooldownMs: 30_000, circuitMaxCooldownMs: 600_000 });
    expect(readWorkerConfig({ WEBHOOK_CIRCUIT_FAILURES: '2', WEBHOOK_CIRCUIT_COOLDOWN: '1s', WEBHOOK_CIRCUIT_MAX_COOLDOWN: '1m' }).webhooks)
      .toMatchObject({ circuitFailureThreshold: 2, circuitCooldownMs: 1_000, circuitMaxCooldownMs: 60_000 });
  });
});
