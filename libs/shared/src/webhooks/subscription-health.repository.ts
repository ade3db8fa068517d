import type { EntityManager } from 'typeorm';
import { queryRow, queryRows, sqlList } from '../database/sql';
import { DUE_STATUSES } from '../entities/webhook-delivery.entity';
import type { PausedReason, StoredCircuitState, SubscriptionStatus } from '../entities/webhook-subscription.entity';
import { HealthEvent, HealthRules, HealthTransition, nextHealth, SubscriptionHealth } from './subscription-health';

interface HealthRow {
  status: SubscriptionStatus;
  paused_reason: PausedReason | null;
  consecutive_failures: number;
  failing_since: Date | null;
  circuit_state: StoredCircuitState;
  circuit_failures: number;
  circuit_open_count: number;
  circuit_retry_at: Date | null;
}

function toHealth(row: HealthRow): SubscriptionHealth {
  return {
    status: row.status,
    pausedReason: row.paused_reason,
    consecutiveFailures: row.consecutive_failures,
    failingSince: row.failing_since,
    circuitState: row.circuit_state,
    circuitFailures: row.circuit_failures,
    circuitOpenCount: row.circuit_open_count,
    circuitRetryAt: row.circuit_retry_at,
  };
}

/** One event for `applyHealthEvents`, at the time it happened. */
export interface TimedHealthEvent {
  event: HealthEvent;
  at: Date;
}

/**
 * Applies health events to a subscription inside the caller's transaction, in order: locks the row
 * once, folds `nextHealth` over the events, writes the result and, when the subscription became
 * paused, holds its waiting deliveries. Returns each event's transition, or null when the
 * subscription does not exist (deleted meanwhile). `appId`, when given, scopes the lookup to a
 * tenant (the API's calls).
 */
export async function applyHealthEvents(
  manager: EntityManager,
  subscriptionId: string,
  events: TimedHealthEvent[],
  rules: HealthRules,
  appId?: string,
): Promise<HealthTransition[] | null> {
  const row = await queryRow<HealthRow>(
    manager,
    `SELECT status, paused_reason, consecutive_failures, failing_since, circuit_state, circuit_failures, circuit_open_count, circuit_retry_at
       FROM webhook_subscriptions WHERE id = $1 AND ($2::uuid IS NULL OR app_id = $2)
        -- NO KEY: the fan-out's inserts take KEY SHARE on the subscription (the deliveries' foreign
        -- key) in no particular order; FOR UPDATE would block them, and a fan-out holding one
        -- subscription while waiting for another deadlocked with a batch of failures locking both.
        FOR NO KEY UPDATE`,
    [subscriptionId, appId ?? null],
  );
  if (!row) return null;
  let state = toHealth(row);
  const transitions = events.map(({ event, at }) => {
    const transition = nextHealth(state, event, at, rules);
    state = transition.next;
    return transition;
  });
  const now = events[events.length - 1].at;
  await manager.query(
    `UPDATE webhook_subscriptions
        SET status = $2, paused_reason = $3, consecutive_failures = $4, failing_since = $5,
            circuit_state = $6, circuit_failures = $7, circuit_open_count = $8, circuit_retry_at = $9, updated_at = $10
      WHERE id = $1`,
    [
      subscriptionId,
      state.status,
      state.pausedReason,
      state.consecutiveFailures,
      state.failingSince,
      state.circuitState,
      state.circuitFailures,
      state.circuitOpenCount,
      state.circuitRetryAt,
      now,
    ],
  );
  if (transitions.some((t) => t.holdWaiting)) await holdWaitingDeliveries(manager, subscriptionId, now);
  return transitions;
}

/** `applyHealthEvents` for a single event. */
export async function applyHealthEvent(
  manager: EntityManager,
  subscriptionId: string,
  event: HealthEvent,
  now: Date,
  rules: HealthRules,
  appId?: string,
): Promise<HealthTransition | null> {
  const transitions = await applyHealthEvents(manager, subscriptionId, [{ event, at: now }], rules, appId);
  return transitions ? transitions[0] : null;
}

/**
 * While paused nothing is sent: deliveries waiting for an attempt become `held` until the resume.
 * One in flight (a live lease) is left to finish; its outcome is recorded as `held` if it fails.
 */
export async function holdWaitingDeliveries(manager: EntityManager, subscriptionId: string, now: Date): Promise<number> {
  const rows = await queryRows<{ id: string }>(
    manager,
    `UPDATE webhook_deliveries SET status = 'held', next_attempt_at = NULL, updated_at = $2
      WHERE subscription_id = $1 AND status IN ${sqlList(DUE_STATUSES)} AND (lease_until IS NULL OR lease_until < $2)
        -- A test send is a probe the admin asked for now: a pause does not hold it.
        AND next_trigger <> 'test'
      RETURNING id`,
    [subscriptionId, now],
  );
  return rows.length;
}
