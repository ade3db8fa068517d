import type { PausedReason, StoredCircuitState, SubscriptionStatus } from '../entities/webhook-subscription.entity';

/**
 * A subscription's health as data (SPEC §3): status, failure streak, auto-pause and the circuit
 * breaker move only through `nextHealth`, which the worker (attempt outcomes) and the API (pause,
 * resume) both call inside the transaction that holds the subscription's row lock.
 */
export interface SubscriptionHealth {
  status: SubscriptionStatus;
  pausedReason: PausedReason | null;
  consecutiveFailures: number;
  /** First failure since the last success; auto-pause counts from here. */
  failingSince: Date | null;
  circuitState: StoredCircuitState;
  /** Timeouts and connection failures in a row; any HTTP answer resets it. */
  circuitFailures: number;
  /** Openings without a close in between; each doubles the cool-down. */
  circuitOpenCount: number;
  circuitRetryAt: Date | null;
}

export interface HealthRules {
  failingAfter: number;
  autoPauseAfterMs: number;
  circuitFailureThreshold: number;
  circuitCooldownMs: number;
  circuitMaxCooldownMs: number;
}

/**
 * Why an attempt failed. `timeout` and `connection` (refused, reset, DNS) say the endpoint is not
 * there and feed the circuit; `http` and `gone` are answers from a live endpoint; `internal` is
 * our own fault (a secret that cannot be decrypted, a bug) and says nothing about the endpoint.
 */
export const FAILURE_KINDS = ['http', 'gone', 'timeout', 'connection', 'internal'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

export type HealthEvent = { type: 'succeeded' } | { type: 'failed'; kind: FailureKind } | { type: 'paused' } | { type: 'resumed' };

export interface HealthTransition {
  next: SubscriptionHealth;
  /** The subscription became paused: its waiting deliveries must be held (holdWaitingDeliveries). */
  holdWaiting: boolean;
  /** The circuit opened, re-opened or closed: the scheduler's copy must follow. */
  circuitChanged: boolean;
}

export const CIRCUIT_VIEWS = ['closed', 'open', 'half_open'] as const;
export type CircuitView = (typeof CIRCUIT_VIEWS)[number];

const HEALTHY: Pick<SubscriptionHealth, 'consecutiveFailures' | 'failingSince' | 'circuitState' | 'circuitFailures' | 'circuitOpenCount' | 'circuitRetryAt'> = {
  consecutiveFailures: 0,
  failingSince: null,
  circuitState: 'closed',
  circuitFailures: 0,
  circuitOpenCount: 0,
  circuitRetryAt: null,
};

/** The cool-down before the probe that follows the n-th opening in a row (n ≥ 1). */
export function circuitCooldownMs(rules: HealthRules, openCount: number): number {
  return Math.min(rules.circuitMaxCooldownMs, rules.circuitCooldownMs * 2 ** Math.min(30, Math.max(0, openCount - 1)));
}

/** The one transition function of subscription health. Pure: same input, same output. */
export function nextHealth(state: SubscriptionHealth, event: HealthEvent, now: Date, rules: HealthRules): HealthTransition {
  switch (event.type) {
    case 'succeeded': {
      // Any 2xx ends the failure streak and closes the circuit; a paused subscription stays paused
      // (an attempt in flight when the admin paused it can still succeed).
      const next: SubscriptionHealth = { ...state, ...HEALTHY, status: state.status === 'failing' ? 'active' : state.status };
      return { next, holdWaiting: false, circuitChanged: state.circuitState !== 'closed' };
    }
    case 'paused':
      if (state.status === 'paused') return { next: state, holdWaiting: false, circuitChanged: false };
      return { next: { ...state, status: 'paused', pausedReason: 'manual' }, holdWaiting: true, circuitChanged: false };
    case 'resumed':
      return { next: { ...state, ...HEALTHY, status: 'active', pausedReason: null }, holdWaiting: false, circuitChanged: state.circuitState !== 'closed' };
    case 'failed':
      return failed(state, event.kind, now, rules);
  }
}

function failed(state: SubscriptionHealth, kind: FailureKind, now: Date, rules: HealthRules): HealthTransition {
  // Our own errors are recorded on the delivery (and follow its schedule) but do not judge the endpoint.
  if (kind === 'internal') return { next: state, holdWaiting: false, circuitChanged: false };
  const consecutiveFailures = state.consecutiveFailures + 1;
  const failingSince = state.failingSince ?? now;
  let status = state.status;
  let pausedReason = state.pausedReason;
  if (state.status !== 'paused') {
    if (kind === 'gone') [status, pausedReason] = ['paused', 'gone'];
    else if (now.getTime() - failingSince.getTime() >= rules.autoPauseAfterMs) [status, pausedReason] = ['paused', 'auto'];
    else if (consecutiveFailures >= rules.failingAfter) status = 'failing';
  }
  const circuit = nextCircuit(state, kind, now, rules);
  const next: SubscriptionHealth = { ...state, status, pausedReason, consecutiveFailures, failingSince, ...circuit };
  return {
    next,
    holdWaiting: state.status !== 'paused' && status === 'paused',
    circuitChanged: next.circuitState !== state.circuitState || next.circuitRetryAt?.getTime() !== state.circuitRetryAt?.getTime(),
  };
}

type CircuitFields = Pick<SubscriptionHealth, 'circuitState' | 'circuitFailures' | 'circuitOpenCount' | 'circuitRetryAt'>;

function nextCircuit(state: SubscriptionHealth, kind: FailureKind, now: Date, rules: HealthRules): CircuitFields {
  const unreachable = kind === 'timeout' || kind === 'connection';
  const circuitFailures = unreachable ? state.circuitFailures + 1 : 0;
  const open = (openCount: number): CircuitFields => ({
    circuitState: 'open',
    circuitFailures,
    circuitOpenCount: openCount,
    circuitRetryAt: new Date(now.getTime() + circuitCooldownMs(rules, openCount)),
  });
  if (state.circuitState === 'open') {
    // Attempts already in flight when the circuit opened end during the cool-down: they change
    // nothing. A failure once the cool-down is over is the probe's, and any failure re-opens it.
    if (state.circuitRetryAt && now < state.circuitRetryAt) return { ...pickCircuit(state), circuitFailures };
    return open(state.circuitOpenCount + 1);
  }
  if (unreachable && circuitFailures >= rules.circuitFailureThreshold) return open(state.circuitOpenCount + 1);
  return { ...pickCircuit(state), circuitFailures };
}

function pickCircuit(state: SubscriptionHealth): CircuitFields {
  return {
    circuitState: state.circuitState,
    circuitFailures: state.circuitFailures,
    circuitOpenCount: state.circuitOpenCount,
    circuitRetryAt: state.circuitRetryAt,
  };
}

/** `open` until the retry time, then `half_open` (one probe may go) until an outcome is recorded. */
export function circuitView(state: Pick<SubscriptionHealth, 'circuitState' | 'circuitRetryAt'>, now: Date): CircuitView {
  if (state.circuitState === 'closed') return 'closed';
  return state.circuitRetryAt && state.circuitRetryAt > now ? 'open' : 'half_open';
}

/** When the subscription will be paused automatically if nothing succeeds; null when not failing or paused. */
export function autoPauseAt(state: Pick<SubscriptionHealth, 'status' | 'failingSince'>, rules: Pick<HealthRules, 'autoPauseAfterMs'>): Date | null {
  if (state.status === 'paused' || !state.failingSince) return null;
  return new Date(state.failingSince.getTime() + rules.autoPauseAfterMs);
}
