import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { queryRows, sqlList } from '@app/shared/database/sql';
import { DUE_STATUSES } from '@app/shared/entities';

/** Where a pass over the due deliveries stopped: next_attempt_at as PostgreSQL's own text (microseconds kept), and the id. */
export interface SweepPosition {
  at: string;
  id: string;
}

/** A delivery due and idle (no live lease), as the sweep offers it to the scheduler. */
export interface IdleDueDelivery {
  id: string;
  subscriptionId: string;
  dueAt: Date;
  rateLimitPerSecond: number | null;
  /** A test send: it goes to the subscription's test lane. */
  test: boolean;
  position: SweepPosition;
}

interface DueRow {
  id: string;
  subscription_id: string;
  next_attempt_at: Date;
  position: string;
  rate_limit_per_second: number | null;
  test: boolean;
}

function toIdleDue(row: DueRow): IdleDueDelivery {
  return {
    id: row.id,
    subscriptionId: row.subscription_id,
    dueAt: row.next_attempt_at,
    rateLimitPerSecond: row.rate_limit_per_second,
    test: row.test,
    position: { at: row.position, id: row.id },
  };
}

/** The sweep's reads: due deliveries nobody holds, and the circuits PostgreSQL has open. */
@Injectable()
export class DeliverySweepRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Deliveries due before `dueBefore` with no live lease, in (next_attempt_at, id) order after
   * `after`, `limit` of them. Subscriptions whose circuit is open are skipped until their probe is due.
   */
  async idleDue(dueBefore: Date, now: Date, after: SweepPosition | null, limit: number): Promise<IdleDueDelivery[]> {
    // The position is kept as PostgreSQL's own text: a JavaScript Date drops the microseconds, and
    // a key rounded down would match the same rows again.
    const rows = await queryRows<DueRow>(
      this.db,
      `SELECT d.id, d.subscription_id, d.next_attempt_at, d.next_attempt_at::text AS position, s.rate_limit_per_second,
              d.next_trigger = 'test' AS test
         FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
        WHERE d.status IN ${sqlList(DUE_STATUSES)}
          AND d.next_attempt_at <= $1
          AND (d.lease_until IS NULL OR d.lease_until < $2)
          -- Test sends have a lane of their own, which no circuit holds back.
          AND (s.circuit_state = 'closed' OR s.circuit_retry_at <= $2 OR d.next_trigger = 'test')
          AND ($3::timestamptz IS NULL OR (d.next_attempt_at, d.id) > ($3::timestamptz, $4::uuid))
        ORDER BY d.next_attempt_at, d.id
        LIMIT $5`,
      [dueBefore, now, after?.at ?? null, after?.id ?? null, limit],
    );
    return rows.map(toIdleDue);
  }

  /** The subscriptions whose circuit is open, and when each may probe. */
  async openCircuits(): Promise<Array<{ subscriptionId: string; retryAt: Date }>> {
    const rows = await queryRows<{ id: string; circuit_retry_at: Date }>(
      this.db,
      `SELECT id, circuit_retry_at FROM webhook_subscriptions WHERE circuit_state = 'open'`,
    );
    return rows.map((row) => ({ subscriptionId: row.id, retryAt: row.circuit_retry_at }));
  }
}
