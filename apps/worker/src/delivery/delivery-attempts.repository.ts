import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { WebhookConfig } from '@app/shared/config/shared-config';
import { MicroBatcher } from '@app/shared/database/micro-batcher';
import { queryRows, sqlList, unnestInput, UnnestColumns } from '@app/shared/database/sql';
import { timeRangeOfIds } from '@app/shared/database/uuid-v7';
import { AttemptTrigger, DUE_STATUSES, nextAttemptNumber } from '@app/shared/entities';
import { nextAttemptDelay } from '@app/shared/webhooks/retry-policy';
import { applyHealthEvent, applyHealthEvents } from '@app/shared/webhooks/subscription-health.repository';
import { WORKER_CONFIG } from '../config/worker-config.module';
import type { WorkerConfig } from '../config/worker-config';
import type { SendResult } from './webhook-sender';

/** What a worker holds while it attempts a delivery: everything needed to send it, read in the claim. */
export interface ClaimedDelivery {
  id: string;
  /** The delivery's partition key (its event's time): attempts are written to the same day. */
  eventAt: Date;
  leaseToken: string;
  attempt: number;
  trigger: AttemptTrigger;
  subscriptionId: string;
  eventId: string;
  event: string;
  url: string;
  secretCiphertext: Buffer;
  previousSecretCiphertext: Buffer | null;
  previousSecretExpiresAt: Date | null;
  /** True when a success must reset the subscription's health (failure streak, failing, circuit). */
  subscriptionUnhealthy: boolean;
  payloadJson: string;
  /** The trace of the booking change that made the event (null while tracing is off): every attempt continues it. */
  traceContext: string | null;
  /** Set when this claim took over a lease that ran out: that attempt was interrupted and is logged as such. */
  interrupted: { attempt: number; startedAt: Date } | null;
}

interface ClaimRow {
  id: string;
  event_at: Date;
  lease_token: string;
  attempt_count: number;
  next_trigger: AttemptTrigger;
  subscription_id: string;
  event_id: string;
  event: string;
  url: string;
  secret_ciphertext: Buffer;
  previous_secret_ciphertext: Buffer | null;
  previous_secret_expires_at: Date | null;
  unhealthy: boolean;
  payload: string;
  trace_context: string | null;
  interrupted_lease_until: Date | null;
}

/** When the outcome moved the subscription's circuit: open until `retryAt`, or closed (null). */
export interface CircuitChange {
  retryAt: Date | null;
}

export type RecordOutcome =
  { status: 'succeeded' | 'failed' | 'held'; circuit?: CircuitChange } | { status: 'retrying'; nextAttempt: number; delayMs: number; circuit?: CircuitChange };

/** The error text of an attempt whose worker stopped (killed, crashed) before recording its outcome. */
export const INTERRUPTED_ERROR = 'attempt interrupted: the worker stopped before recording its outcome';

const BATCH_SIZE = 100;
const BATCHES_IN_FLIGHT = 4;
/** A batch stays open this long: at a steady rate it gathers several jobs into one statement. */
const BATCH_WINDOW_MS = 2;

interface ClaimRequest {
  deliveryId: string;
  now: Date;
}

/** A finished attempt waiting to be recorded. */
interface AttemptRecord {
  claim: ClaimedDelivery;
  result: SendResult;
}

/**
 * The worker's reads and writes of deliveries. The hot path (claim, record a success) is batched
 * across the jobs in flight, and so are failures (one transaction that applies each subscription's
 * health events in order).
 */
@Injectable()
export class DeliveryAttemptsRepository {
  private readonly config: WebhookConfig;
  private readonly leaseMs: number;
  private claims = new MicroBatcher<ClaimRequest, ClaimedDelivery | null>((batch) => this.claimBatch(batch), BATCH_SIZE, BATCHES_IN_FLIGHT, BATCH_WINDOW_MS);
  private successes = new MicroBatcher<AttemptRecord, RecordOutcome>((batch) => this.recordSuccesses(batch), BATCH_SIZE, BATCHES_IN_FLIGHT, BATCH_WINDOW_MS);
  private failures = new MicroBatcher<AttemptRecord, RecordOutcome>((batch) => this.recordFailures(batch), BATCH_SIZE, BATCHES_IN_FLIGHT, BATCH_WINDOW_MS);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(WORKER_CONFIG) config: WorkerConfig,
  ) {
    this.config = config.webhooks;
    this.leaseMs = config.webhooks.timeoutMs + config.leaseMarginMs;
  }

  /**
   * Takes the delivery for one attempt if it is due, not held, not done and not leased by a live
   * attempt. A job whose delivery is not claimable sends nothing: that is what makes re-enqueues
   * by the sweeper and stalled-job takeovers safe.
   */
  claim(deliveryId: string, now: Date): Promise<ClaimedDelivery | null> {
    return this.claims.submit({ deliveryId, now });
  }

  private async claimBatch(batch: ClaimRequest[]): Promise<Array<ClaimedDelivery | null>> {
    const now = batch[batch.length - 1].now;
    const ids = [...new Set(batch.map((c) => c.deliveryId))];
    // The ids carry their event's time: the range confines the statement to those days' partitions.
    const range = timeRangeOfIds(ids);
    // `prior` is the row as it was before this UPDATE: a lease still set there belongs to an attempt
    // that never recorded its outcome (its worker died), so that attempt is counted and logged.
    const rows = await queryRows<ClaimRow>(
      this.db,
      `UPDATE webhook_deliveries d
          SET lease_token = gen_random_uuid(), lease_until = $2, updated_at = $1,
              attempt_count = d.attempt_count + (d.lease_token IS NOT NULL)::int
         FROM webhook_deliveries prior, webhook_subscriptions s, outbox_events e
        WHERE d.id = ANY($3::uuid[]) AND d.event_at >= $4 AND d.event_at < $5
          AND prior.id = d.id AND prior.event_at = d.event_at AND prior.event_at >= $4 AND prior.event_at < $5
          AND s.id = d.subscription_id
          AND e.id = d.event_id AND e.occurred_at >= d.event_at AND e.occurred_at < d.event_at + interval '1 millisecond'
          AND e.occurred_at >= $4 AND e.occurred_at < $5::timestamptz + interval '1 millisecond'
          AND d.status IN ${sqlList(DUE_STATUSES)}
          -- A difference, not a range on next_attempt_at, so each row is found by its key: as a range
          -- the planner ANDed in a scan of the due index, whose dead entries (one per delivery until
          -- vacuum) made a claim cost ~2 ms of PostgreSQL CPU after a burst (0.08 ms now).
          AND d.next_attempt_at - $1::timestamptz <= interval '1 second'
          AND (d.lease_until IS NULL OR d.lease_until < $1)
          -- A test send is an explicit probe: it goes to a paused subscription too.
          AND (s.status <> 'paused' OR d.next_trigger = 'test')
        RETURNING d.id, d.event_at, d.lease_token, d.attempt_count, d.next_trigger, d.subscription_id, d.event_id, d.event,
                  s.url, s.secret_ciphertext, s.previous_secret_ciphertext, s.previous_secret_expires_at,
                  (s.consecutive_failures > 0 OR s.failing_since IS NOT NULL OR s.circuit_state <> 'closed') AS unhealthy,
                  e.payload::text AS payload, e.trace_context,
                  CASE WHEN prior.lease_token IS NOT NULL THEN prior.lease_until END AS interrupted_lease_until`,
      [now, new Date(now.getTime() + this.leaseMs), ids, range.from, range.to],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    const claimed = batch.map(({ deliveryId }) => {
      const row = byId.get(deliveryId);
      if (!row) return null;
      byId.delete(deliveryId); // the same id twice in one batch is claimed once
      return this.toClaim(row);
    });
    const interrupted = claimed.filter((c): c is ClaimedDelivery => c?.interrupted != null);
    if (interrupted.length > 0) await this.logInterrupted(interrupted);
    return claimed;
  }

  private toClaim(row: ClaimRow): ClaimedDelivery {
    return {
      id: row.id,
      eventAt: row.event_at,
      leaseToken: row.lease_token,
      attempt: nextAttemptNumber(row.attempt_count),
      trigger: row.next_trigger,
      subscriptionId: row.subscription_id,
      eventId: row.event_id,
      event: row.event,
      url: row.url,
      secretCiphertext: row.secret_ciphertext,
      previousSecretCiphertext: row.previous_secret_ciphertext,
      previousSecretExpiresAt: row.previous_secret_expires_at,
      subscriptionUnhealthy: row.unhealthy,
      payloadJson: row.payload,
      traceContext: row.trace_context,
      interrupted: row.interrupted_lease_until
        ? { attempt: row.attempt_count, startedAt: new Date(row.interrupted_lease_until.getTime() - this.leaseMs) }
        : null,
    };
  }

  /** The attempt a dead worker never recorded: logged with its number, so attempt numbers never repeat. */
  private async logInterrupted(claims: ClaimedDelivery[]): Promise<void> {
    const input = unnestInput(claims, {
      delivery_id: ['uuid', (c) => c.id],
      event_at: ['timestamptz', (c) => c.eventAt],
      attempt: ['int', (c) => c.interrupted!.attempt],
      trigger: ['text', (c) => c.trigger],
      started_at: ['timestamptz', (c) => c.interrupted!.startedAt],
    });
    await this.db.query(
      `INSERT INTO webhook_attempts (${input.columns}, duration_ms, error)
       SELECT ${input.columns}, $${input.nextParam}, $${input.nextParam + 1} FROM ${input.sql}
       ON CONFLICT DO NOTHING`,
      [...input.params, this.leaseMs, INTERRUPTED_ERROR],
    );
  }

  record(claim: ClaimedDelivery, result: SendResult): Promise<RecordOutcome> {
    if (claim.trigger === 'test') return this.recordTestSend(claim, result);
    return (result.ok ? this.successes : this.failures).submit({ claim, result });
  }

  /**
   * A test send has one attempt and ends with it: no retry, and no effect on the subscription's
   * health (failure streak, failing, auto-pause, circuit), since it is a probe, not a delivery the
   * receiver owes. Rare (a few per minute per subscription at most), so not batched.
   */
  private async recordTestSend(claim: ClaimedDelivery, result: SendResult): Promise<RecordOutcome> {
    const status = result.ok ? 'succeeded' : 'failed';
    await this.db.query(
      `WITH logged AS (
         INSERT INTO webhook_attempts (delivery_id, event_at, attempt, trigger, started_at, duration_ms, response_status, response_body, error,
                                       request_headers, response_headers)
         VALUES ($1, $2, $3, 'test', $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT DO NOTHING
       )
       UPDATE webhook_deliveries
          SET status = $11, attempt_count = $3, next_attempt_at = NULL, lease_token = NULL, lease_until = NULL,
              last_response_status = $6, updated_at = $4
        WHERE id = $1 AND event_at = $2 AND lease_token = $12`,
      [
        claim.id,
        claim.eventAt,
        claim.attempt,
        result.startedAt,
        result.durationMs,
        result.status,
        result.body,
        result.error,
        json(result.requestHeaders),
        json(result.responseHeaders),
        status,
        claim.leaseToken,
      ],
    );
    return { status };
  }

  private async recordSuccesses(batch: AttemptRecord[]): Promise<RecordOutcome[]> {
    // One statement (atomic on its own): the attempt log and the delivery. Healthy subscriptions
    // (the usual case) are not written at all, so deliveries to one busy subscription do not
    // contend on its row.
    const input = unnestInput(batch, { token: ['uuid', (r) => r.claim.leaseToken], ...ATTEMPT_COLUMNS });
    await this.db.query(
      `WITH input AS (
         SELECT * FROM ${input.sql}
       ), logged AS (
         INSERT INTO webhook_attempts (${ATTEMPT_COLUMN_LIST})
         SELECT ${ATTEMPT_COLUMN_LIST} FROM input
         ON CONFLICT DO NOTHING
       )
       UPDATE webhook_deliveries d
          SET status = 'succeeded', attempt_count = input.attempt, next_attempt_at = NULL, next_trigger = 'automatic',
              lease_token = NULL, lease_until = NULL, last_response_status = input.response_status, updated_at = input.started_at
         FROM input
        WHERE d.id = input.delivery_id AND d.event_at = input.event_at AND d.lease_token = input.token
          AND d.event_at >= $${input.nextParam} AND d.event_at <= $${input.nextParam + 1}`,
      [...input.params, ...eventAtBounds(batch)],
    );
    // Any 2xx ends a failure streak and closes the circuit: rare (the subscription was unhealthy), so one by one.
    const closed = new Set<string>();
    for (const subscriptionId of new Set(batch.filter((r) => r.claim.subscriptionUnhealthy).map((r) => r.claim.subscriptionId))) {
      const at = endOf(batch.find((r) => r.claim.subscriptionId === subscriptionId)!.result);
      const transition = await this.db.transaction((manager) => applyHealthEvent(manager, subscriptionId, { type: 'succeeded' }, at, this.config));
      if (transition?.circuitChanged) closed.add(subscriptionId);
    }
    return batch.map((r): RecordOutcome => ({
      status: 'succeeded',
      circuit: closed.has(r.claim.subscriptionId) ? { retryAt: null } : undefined,
    }));
  }

  /**
   * Logs the failed attempts, applies them to their subscriptions' health (failure streak, failing,
   * auto-pause, circuit), and schedules each delivery's next attempt or ends it: one transaction
   * for a batch. One at a time, 48 attempts timing out together each held a pooled connection
   * while waiting for their subscription's row lock, and exhausted the pool for everyone else
   * (a 150 ms stall of a healthy subscription's deliveries in bench:isolation).
   */
  private recordFailures(batch: AttemptRecord[]): Promise<RecordOutcome[]> {
    return this.db.transaction(async (manager) => {
      const attempts = unnestInput(batch, { ...ATTEMPT_COLUMNS, error: ['text', (r) => r.result.error] });
      await manager.query(
        `INSERT INTO webhook_attempts (${attempts.columns}) SELECT ${attempts.columns} FROM ${attempts.sql} ON CONFLICT DO NOTHING`,
        attempts.params,
      );
      const outcomes = new Map<AttemptRecord, RecordOutcome>();
      // Subscriptions in a fixed order, so two batches never wait on each other's row locks.
      const bySubscription = groupBy(batch, (r) => r.claim.subscriptionId);
      for (const subscriptionId of [...bySubscription.keys()].sort()) {
        const records = bySubscription.get(subscriptionId)!.sort((a, b) => endOf(a.result).getTime() - endOf(b.result).getTime());
        const transitions = await applyHealthEvents(
          manager,
          subscriptionId,
          records.map((r) => ({ event: { type: 'failed', kind: r.result.failure ?? 'internal' }, at: endOf(r.result) })),
          this.config,
        );
        const last = transitions?.[transitions.length - 1]?.next;
        // The scheduler follows the circuit's final state; one outcome carries it.
        const changedAt = transitions?.findIndex((t) => t.circuitChanged) ?? -1;
        records.forEach((record, i) => {
          const paused = transitions?.[i].next.status === 'paused';
          const delayMs = paused ? null : nextAttemptDelay(this.config, record.claim.attempt, record.result.retryAfterMs);
          const circuit = i === changedAt && last ? { retryAt: last.circuitState === 'open' ? last.circuitRetryAt : null } : undefined;
          outcomes.set(
            record,
            paused
              ? { status: 'held', circuit }
              : delayMs === null
                ? { status: 'failed', circuit }
                : { status: 'retrying', nextAttempt: nextAttemptNumber(record.claim.attempt), delayMs, circuit },
          );
        });
      }
      const results = batch.map((r) => outcomes.get(r)!);
      const updates = unnestInput(
        batch.map((record, i) => ({ record, outcome: results[i] })),
        {
          id: ['uuid', ({ record }) => record.claim.id],
          token: ['uuid', ({ record }) => record.claim.leaseToken],
          status: ['text', ({ outcome }) => outcome.status],
          attempt: ['int', ({ record }) => record.claim.attempt],
          next_attempt_at: [
            'timestamptz',
            ({ record, outcome }) => (outcome.status === 'retrying' ? new Date(record.result.startedAt.getTime() + outcome.delayMs) : null),
          ],
          response_status: ['int', ({ record }) => record.result.status],
          started_at: ['timestamptz', ({ record }) => record.result.startedAt],
          event_at: ['timestamptz', ({ record }) => record.claim.eventAt],
        },
        1,
        'input',
      );
      await manager.query(
        `UPDATE webhook_deliveries d
            SET status = input.status, attempt_count = input.attempt, next_attempt_at = input.next_attempt_at, next_trigger = 'automatic',
                lease_token = NULL, lease_until = NULL, last_response_status = input.response_status, updated_at = input.started_at
           FROM ${updates.sql}
          WHERE d.id = input.id AND d.event_at = input.event_at AND d.lease_token = input.token
            AND d.event_at >= $${updates.nextParam} AND d.event_at <= $${updates.nextParam + 1}`,
        [...updates.params, ...eventAtBounds(batch)],
      );
      return results;
    });
  }
}

/** The columns of an attempt-log row, read off a finished attempt (a failure adds its error). */
const ATTEMPT_COLUMNS = {
  delivery_id: ['uuid', (r) => r.claim.id],
  event_at: ['timestamptz', (r) => r.claim.eventAt],
  attempt: ['int', (r) => r.claim.attempt],
  trigger: ['text', (r) => r.claim.trigger],
  started_at: ['timestamptz', (r) => r.result.startedAt],
  duration_ms: ['int', (r) => r.result.durationMs],
  response_status: ['int', (r) => r.result.status],
  response_body: ['text', (r) => r.result.body],
  request_headers: ['jsonb', (r) => json(r.result.requestHeaders)],
  response_headers: ['jsonb', (r) => json(r.result.responseHeaders)],
} satisfies UnnestColumns<AttemptRecord>;
const ATTEMPT_COLUMN_LIST = Object.keys(ATTEMPT_COLUMNS).join(', ');

/** A header map as a jsonb parameter (null stays SQL NULL). */
function json(value: Record<string, string> | null): string | null {
  return value === null ? null : JSON.stringify(value);
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** The earliest and latest `event_at` of a batch: as constants, they prune the UPDATE to those days' partitions. */
function eventAtBounds(batch: AttemptRecord[]): [Date, Date] {
  let min = batch[0].claim.eventAt;
  let max = min;
  for (const { claim } of batch) {
    if (claim.eventAt < min) min = claim.eventAt;
    if (claim.eventAt > max) max = claim.eventAt;
  }
  return [min, max];
}

function endOf(result: SendResult): Date {
  return new Date(result.startedAt.getTime() + result.durationMs);
}
