import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { queryRow, queryRows, sqlList } from '@app/shared/database/sql';
import { DUE_STATUSES, UNFINISHED_STATUSES, type SubscriptionStatus } from '@app/shared/entities';
import type { CircuitView } from '@app/shared/webhooks/subscription-health';

/** What PostgreSQL knows of the pipeline at one instant, for the operator's /metrics. */
export interface PipelineSnapshot {
  /** Unfinished deliveries by status (a status with none is absent). */
  unfinished: Array<{ status: string; n: number }>;
  /** When the oldest due delivery became due; null when none is. */
  oldestDueAt: Date | null;
  /** Outbox events not fanned out yet. */
  undispatched: number;
  subscriptions: Array<{ status: SubscriptionStatus; circuit: CircuitView; n: number }>;
}

/** The SQL behind GET /metrics: counts of the few unfinished rows, never of the history. */
@Injectable()
export class PipelineMetricsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async snapshot(now: Date): Promise<PipelineSnapshot> {
    const [unfinished, due, outbox, subscriptions] = await Promise.all([
      // Unfinished only: they are few and indexed; counting the succeeded would read the whole history.
      queryRows<{ status: string; n: number }>(
        this.db,
        `SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE status IN ${sqlList(UNFINISHED_STATUSES)} GROUP BY status`,
      ),
      queryRow<{ oldest: Date | null }>(
        this.db,
        `SELECT min(next_attempt_at) AS oldest FROM webhook_deliveries WHERE status IN ${sqlList(DUE_STATUSES)} AND next_attempt_at <= $1`,
        [now],
      ),
      queryRow<{ n: number }>(this.db, `SELECT count(*)::int AS n FROM outbox_pending`),
      queryRows<{ status: SubscriptionStatus; circuit: CircuitView; n: number }>(
        this.db,
        `SELECT status, CASE WHEN circuit_state = 'closed' THEN 'closed' WHEN circuit_retry_at > $1 THEN 'open' ELSE 'half_open' END AS circuit, count(*)::int AS n
           FROM webhook_subscriptions GROUP BY 1, 2`,
        [now],
      ),
    ]);
    return { unfinished, oldestDueAt: due?.oldest ?? null, undispatched: outbox?.n ?? 0, subscriptions };
  }
}
