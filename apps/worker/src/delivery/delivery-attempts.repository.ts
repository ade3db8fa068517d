import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { WebhookConfig } from '@app/shared/config/shared-config';
import { MicroBatcher } from '@app/shared/database/micro-batcher';
import { returningRows } from '@app/shared/database/returning';
import type { AttemptTrigger } from '@app/shared/entities';
import { nextAttemptDelay } from '@app/shared/webhooks/retry-policy';
import type { SendResult } from './webhook-sender';

/** What a worker holds while it attempts a delivery: everything needed to send it, read in the claim. */
export interface ClaimedDelivery {
  id: string;
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
  /** True when the subscription needs its failure streak reset by a success. */
  subscriptionUnhealthy: boolean;
  payloadJson: string;
}

export type RecordOutcome =
  | { status: 'succeeded' | 'failed' | 'held' }
  | { status: 'retrying'; nextAttempt: number; delayMs: number };

const BATCH_SIZE = 100;
const BATCHES_IN_FLIGHT = 4;
/** A batch stays open this long: at a steady rate it gathers several jobs into one statement. */
const BATCH_WINDOW_MS = 2;

interface ClaimRequest {
  deliveryId: string;
  now: Date;
}

interface SuccessRecord {
  claim: ClaimedDelivery;
  result: SendResult;
}

/**
 * The worker's reads and writes of deliveries. The hot path (claim, record a success) is batched
 * across the jobs in flight; failures, rarer and with more to decide, run one by one.
 */
@Injectable()
export class DeliveryAttemptsRepository {
  private config!: WebhookConfig;
  private leaseMs = 0;
  private claims = new MicroBatcher<ClaimRequest, ClaimedDelivery | null>((batch) => this.claimBatch(batch), BATCH_SIZE, BATCHES_IN_FLIGHT, BATCH_WINDOW_MS);
  private successes = new MicroBatcher<SuccessRecord, RecordOutcome>((batch) => this.recordSuccesses(batch), BATCH_SIZE, BATCHES_IN_FLIGHT, BATCH_WINDOW_MS);

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  configure(config: WebhookConfig, leaseMs: number): void {
    this.config = config;
    this.leaseMs = leaseMs;
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
    const rows: Array<Record<string, unknown>> = await this.db.query(
      `UPDATE webhook_deliveries d
          SET lease_token = gen_random_uuid(), lease_until = $2, updated_at = $1
         FROM webhook_subscriptions s, outbox_events e
        WHERE d.id = ANY($3::uuid[])
          AND s.id = d.subscription_id AND e.id = d.event_id
          AND d.status IN ('pending', 'retrying')
          -- A difference, not a range on next_attempt_at, so each row is found by its key: as a range
          -- the planner ANDed in a scan of the due index, whose dead entries (one per delivery until
          -- vacuum) made a claim cost ~2 ms of PostgreSQL CPU after a burst (0.08 ms now).
          AND d.next_attempt_at - $1::timestamptz <= interval '1 second'
          AND (d.lease_until IS NULL OR d.lease_until < $1)
          AND s.status <> 'paused'
        RETURNING d.id, d.lease_token, d.attempt_count, d.next_trigger, d.subscription_id, d.event_id, d.event,
                  s.url, s.secret_ciphertext, s.previous_secret_ciphertext, s.previous_secret_expires_at,
                  (s.consecutive_failures > 0 OR s.failing_since IS NOT NULL) AS unhealthy, e.payload::text AS payload`,
      [now, new Date(now.getTime() + this.leaseMs), [...new Set(batch.map((c) => c.deliveryId))]],
    ).then(returningRows);
    const byId = new Map(rows.map((row) => [row.id as string, row]));
    return batch.map(({ deliveryId }) => {
      const row = byId.get(deliveryId);
      if (!row) return null;
      byId.delete(deliveryId); // the same id twice in one batch is claimed once
      return {
        id: deliveryId,
        leaseToken: row.lease_token as string,
        attempt: (row.attempt_count as number) + 1,
        trigger: row.next_trigger as AttemptTrigger,
        subscriptionId: row.subscription_id as string,
        eventId: row.event_id as string,
        event: row.event as string,
        url: row.url as string,
        secretCiphertext: row.secret_ciphertext as Buffer,
        previousSecretCiphertext: row.previous_secret_ciphertext as Buffer | null,
        previousSecretExpiresAt: row.previous_secret_expires_at as Date | null,
        subscriptionUnhealthy: row.unhealthy as boolean,
        payloadJson: row.payload as string,
      };
    });
  }

  record(claim: ClaimedDelivery, result: SendResult): Promise<RecordOutcome> {
    return result.ok ? this.successes.submit({ claim, result }) : this.recordFailure(claim, result);
  }

  private async recordSuccesses(batch: SuccessRecord[]): Promise<RecordOutcome[]> {
    const now = batch[batch.length - 1].result.startedAt;
    const column = <T>(pick: (r: SuccessRecord) => T): T[] => batch.map(pick);
    // Any 2xx ends a failure streak. Healthy subscriptions (the usual case) are not written at all,
    // so deliveries to one busy subscription do not contend on its row.
    const recovering = [...new Set(batch.filter((r) => r.claim.subscriptionUnhealthy).map((r) => r.claim.subscriptionId))];
    // One statement (atomic on its own): the attempt log, the delivery, and the subscriptions recovering.
    await this.db.query(
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::timestamptz[], $6::int[], $7::int[], $8::text[])
           AS t(id, token, attempt, trigger, started_at, duration_ms, response_status, response_body)
       ), logged AS (
         INSERT INTO webhook_attempts (delivery_id, attempt, trigger, started_at, duration_ms, response_status, response_body)
         SELECT id, attempt, trigger, started_at, duration_ms, response_status, response_body FROM input
         ON CONFLICT DO NOTHING
       ), recovered AS (
         UPDATE webhook_subscriptions
            SET consecutive_failures = 0, failing_since = NULL, updated_at = $10,
                status = CASE WHEN status = 'failing' THEN 'active' ELSE status END
          WHERE id = ANY($9::uuid[])
       )
       UPDATE webhook_deliveries d
          SET status = 'succeeded', attempt_count = input.attempt, next_attempt_at = NULL, next_trigger = 'automatic',
              lease_token = NULL, lease_until = NULL, last_response_status = input.response_status, updated_at = input.started_at
         FROM input
        WHERE d.id = input.id AND d.lease_token = input.token`,
      [
        column((r) => r.claim.id), column((r) => r.claim.leaseToken), column((r) => r.claim.attempt), column((r) => r.claim.trigger),
        column((r) => r.result.startedAt), column((r) => r.result.durationMs), column((r) => r.result.status), column((r) => r.result.body),
        recovering, now,
      ],
    );
    return batch.map(() => ({ status: 'succeeded' as const }));
  }

  /** Logs the attempt, updates the subscription's health, and schedules the next attempt or ends. */
  private recordFailure(claim: ClaimedDelivery, result: SendResult): Promise<RecordOutcome> {
    const now = result.startedAt;
    return this.db.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO webhook_attempts (delivery_id, attempt, trigger, started_at, duration_ms, response_status, response_body, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
        [claim.id, claim.attempt, claim.trigger, now, result.durationMs, result.status, result.body, result.error],
      );
      const [subscription] = await manager.query(
        `UPDATE webhook_subscriptions
            SET consecutive_failures = consecutive_failures + 1,
                failing_since = COALESCE(failing_since, $2),
                updated_at = $2,
                status = CASE
                  WHEN status = 'paused' THEN 'paused'
                  WHEN $3::boolean THEN 'paused'
                  WHEN COALESCE(failing_since, $2) <= $2::timestamptz - make_interval(secs => $5::double precision / 1000) THEN 'paused'
                  WHEN consecutive_failures + 1 >= $4 THEN 'failing'
                  ELSE status END,
                paused_reason = CASE
                  WHEN status = 'paused' THEN paused_reason
                  WHEN $3::boolean THEN 'gone'
                  WHEN COALESCE(failing_since, $2) <= $2::timestamptz - make_interval(secs => $5::double precision / 1000) THEN 'auto'
                  ELSE NULL END
          WHERE id = $1
          RETURNING status`,
        [claim.subscriptionId, now, result.status === 410, this.config.failingAfter, this.config.autoPauseAfterMs],
      ).then(returningRows);
      const paused = subscription?.status === 'paused';
      const delayMs = paused ? null : nextAttemptDelay(this.config, claim.attempt, result.retryAfterMs);
      const outcome: RecordOutcome = paused ? { status: 'held' } : delayMs === null ? { status: 'failed' } : { status: 'retrying', nextAttempt: claim.attempt + 1, delayMs };
      await manager.query(
        `UPDATE webhook_deliveries
            SET status = $3, attempt_count = $4, next_attempt_at = $5, next_trigger = 'automatic',
                lease_token = NULL, lease_until = NULL, last_response_status = $6, updated_at = $7
          WHERE id = $1 AND lease_token = $2`,
        [claim.id, claim.leaseToken, outcome.status, claim.attempt, outcome.status === 'retrying' ? new Date(now.getTime() + outcome.delayMs) : null, result.status, now],
      );
      // While paused nothing is sent: what waited for a retry waits for the resume instead.
      if (paused) {
        await manager.query(
          `UPDATE webhook_deliveries SET status = 'held', next_attempt_at = NULL, updated_at = $2
            WHERE subscription_id = $1 AND status IN ('pending', 'retrying') AND (lease_until IS NULL OR lease_until < $2)`,
          [claim.subscriptionId, now],
        );
      }
      return outcome;
    });
  }
}
