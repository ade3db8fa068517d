import type { DataSource, QueryRunner } from 'typeorm';
import { UNFINISHED_STATUSES } from '../entities/webhook-delivery.entity';
import { queryRow, queryRows, sqlList } from './sql';

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
// 1970-01-01 was a Thursday: Mondays are 4 days after a multiple of a week since the epoch.
const MONDAY_OFFSET_MS = 4 * DAY_MS;
// Any fixed number: one maintenance pass at a time across every API and worker process.
const MAINTENANCE_LOCK = 7_264_312;
const PARTITIONED = ['outbox_events', 'webhook_deliveries', 'webhook_attempts'] as const;

/** The attempt-log line of a delivery ended by retention. */
export function expiredError(retentionMs: number): string {
  return `expired: not delivered within the retention period (WEBHOOK_RETENTION, ${formatDays(retentionMs)}); ended before its history is removed`;
}

export interface HistoryMaintenanceOptions {
  /** WEBHOOK_RETENTION: unfinished deliveries older than this end; a week's partitions go once all of the week is. Required by `run`. */
  retentionMs?: number;
  /** How far ahead of today partitions exist, in days, so inserts never wait for one. Default 7. */
  daysAhead?: number;
  /**
   * Longest wait for the lock that creating or dropping a partition takes on its table. Default
   * 200 ms: a DDL statement waiting for a lock holds up every query queued behind it, so it gives
   * up quickly and the next pass tries again.
   */
  lockTimeoutMs?: number;
}

export interface MaintenanceReport {
  /** False when another process held the maintenance lock: this pass did nothing. */
  ran: boolean;
  /** Weeks (their Monday, `YYYY-MM-DD`) whose partitions were created. */
  created: string[];
  /** Weeks whose partitions were dropped. */
  dropped: string[];
  /** Weeks due to be dropped that could not be (lock timeout); the next pass retries. */
  deferred: string[];
  /** Deliveries still pending, retrying or held when they passed the retention, ended `failed`, by subscription. */
  expiredDeliveries: Map<string, number>;
  /** Events the fan-out never took (no deliveries exist for them) when they passed the retention. */
  expiredEvents: number;
  /** Rows outside every week's partition (in the DEFAULT partitions) removed for being older than the retention. */
  strayRows: number;
}

/**
 * Keeps the time-partitioned history (outbox events, deliveries, attempts; one partition per week,
 * from Monday 00:00 UTC, of the event's time) within WEBHOOK_RETENTION: creates weeks ahead, and
 * removes expired weeks by dropping their partitions, never by DELETE. Nothing unfinished goes
 * silently: once older than the retention, a delivery still pending, retrying or held becomes
 * `failed` with an attempt-log line saying it expired, and is counted in the report (the worker
 * turns it into metrics and a log line); its week is dropped later, once all of it is that old.
 * Time comes from the caller, so tests pass weeks in milliseconds.
 */
export class HistoryMaintenance {
  private readonly daysAhead: number;
  private readonly lockTimeoutMs: number;

  constructor(
    private readonly db: DataSource,
    private readonly options: HistoryMaintenanceOptions = {},
  ) {
    this.daysAhead = options.daysAhead ?? 7;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 200;
  }

  /** Creates the partitions of this week and of the days ahead; enough for a process that starts. */
  async ensureAhead(now: Date): Promise<string[]> {
    return (await this.withLock(async (runner) => this.createAhead(runner, now))) ?? [];
  }

  /** One full pass: weeks ahead created, expired deliveries ended, expired weeks dropped. */
  async run(now: Date): Promise<MaintenanceReport> {
    const retentionMs = this.options.retentionMs;
    if (retentionMs === undefined || !(retentionMs >= DAY_MS)) throw new RangeError('HistoryMaintenance.run needs a retention of at least one day');
    const report: MaintenanceReport = { ran: false, created: [], dropped: [], deferred: [], expiredDeliveries: new Map(), expiredEvents: 0, strayRows: 0 };
    const done = await this.withLock(async (runner) => {
      report.created = await this.createAhead(runner, now);
      // Everything before `cutoff` is older than the retention: whole weeks before it go.
      const cutoff = new Date(now.getTime() - retentionMs);
      await this.expire(runner, cutoff, now, expiredError(retentionMs), report);
      for (const week of await this.weeks(runner)) {
        if (week.getTime() + WEEK_MS > cutoff.getTime()) continue;
        if (await this.drop(runner, week)) report.dropped.push(dayName(week));
        else report.deferred.push(dayName(week));
      }
      report.strayRows = await this.removeStrayRows(runner, cutoff);
      return true;
    });
    report.ran = done === true;
    return report;
  }

  /** The weeks (their Monday) that have partitions, oldest first. */
  async weeks(runner?: QueryRunner): Promise<Date[]> {
    const rows = await queryRows<{ day: string }>(
      runner ?? this.db,
      `SELECT DISTINCT substring(c.relname FROM '_p([0-9]{8})$') AS day
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname = ANY($1) AND c.relname ~ '_p[0-9]{8}$'
        ORDER BY 1`,
      [PARTITIONED],
    );
    return rows.map((row) => new Date(`${row.day.slice(0, 4)}-${row.day.slice(4, 6)}-${row.day.slice(6, 8)}T00:00:00Z`));
  }

  private async createAhead(runner: QueryRunner, now: Date): Promise<string[]> {
    const created: string[] = [];
    const last = now.getTime() + this.daysAhead * DAY_MS;
    for (let week = startOfWeek(now.getTime()); week <= last; week += WEEK_MS) {
      const made = await this.ddl(runner, `SELECT history_create_partitions($1::date) AS n`, [dayName(new Date(week))]);
      if (made !== null && made > 0) created.push(dayName(new Date(week)));
    }
    return created;
  }

  /**
   * Ends what is unfinished in the expiring days, in one transaction: deliveries become `failed`
   * with an attempt saying why, and events never fanned out leave outbox_pending.
   */
  private async expire(runner: QueryRunner, cutoff: Date, now: Date, error: string, report: MaintenanceReport): Promise<void> {
    await runner.startTransaction();
    try {
      const rows = await queryRows<{ subscription_id: string; n: number }>(
        runner,
        `WITH expired AS (
           UPDATE webhook_deliveries
              -- The expiry is logged as the next attempt (nextAttemptNumber), so attempt numbers never repeat.
              SET status = 'failed', attempt_count = attempt_count + 1, next_attempt_at = NULL, next_trigger = 'automatic',
                  lease_token = NULL, lease_until = NULL, updated_at = $2
            WHERE event_at < $1 AND status IN ${sqlList(UNFINISHED_STATUSES)}
            RETURNING id, event_at, attempt_count, subscription_id
         ), logged AS (
           INSERT INTO webhook_attempts (delivery_id, event_at, attempt, trigger, started_at, duration_ms, error)
           SELECT id, event_at, attempt_count, 'automatic', $2, 0, $3 FROM expired
           ON CONFLICT DO NOTHING
         )
         SELECT subscription_id, count(*)::int AS n FROM expired GROUP BY subscription_id`,
        [cutoff, now, error],
      );
      for (const row of rows) report.expiredDeliveries.set(row.subscription_id, row.n);
      const events = await queryRow<{ n: number }>(
        runner,
        `WITH gone AS (DELETE FROM outbox_pending WHERE occurred_at < $1 RETURNING 1) SELECT count(*)::int AS n FROM gone`,
        [cutoff],
      );
      report.expiredEvents = events?.n ?? 0;
      await runner.commitTransaction();
    } catch (error) {
      await runner.rollbackTransaction();
      throw error;
    }
  }

  private async drop(runner: QueryRunner, week: Date): Promise<boolean> {
    return (await this.ddl(runner, `SELECT history_drop_partitions($1::date) AS n`, [dayName(week)])) !== null;
  }

  /** Rows the DEFAULT partitions caught (times outside every created week) expire by DELETE: they are few. */
  private async removeStrayRows(runner: QueryRunner, cutoff: Date): Promise<number> {
    let removed = 0;
    for (const [table, key] of [
      ['webhook_attempts_default', 'event_at'],
      ['webhook_deliveries_default', 'event_at'],
      ['outbox_events_default', 'occurred_at'],
    ]) {
      const gone = await queryRow<{ n: number }>(
        runner,
        `WITH gone AS (DELETE FROM ${table} WHERE ${key} < $1 RETURNING 1) SELECT count(*)::int AS n FROM gone`,
        [cutoff],
      );
      removed += gone?.n ?? 0;
    }
    return removed;
  }

  /** A DDL statement under a short lock timeout: null when the lock was not granted in time. */
  private async ddl(runner: QueryRunner, sql: string, params: unknown[]): Promise<number | null> {
    await runner.startTransaction();
    try {
      await runner.query(`SELECT set_config('lock_timeout', $1, true)`, [`${this.lockTimeoutMs}ms`]);
      const row = await queryRow<{ n: number }>(runner, sql, params);
      await runner.commitTransaction();
      return row?.n ?? 0;
    } catch (error) {
      await runner.rollbackTransaction();
      if ((error as { code?: string }).code === '55P03') return null; // lock_not_available
      throw error;
    }
  }

  /** Runs `work` on one connection holding the maintenance lock; undefined when another process holds it. */
  private async withLock<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T | undefined> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      const lock = await queryRow<{ locked: boolean }>(runner, 'SELECT pg_try_advisory_lock($1) AS locked', [MAINTENANCE_LOCK]);
      if (!lock?.locked) return undefined;
      try {
        return await work(runner);
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [MAINTENANCE_LOCK]);
      }
    } finally {
      await runner.release();
    }
  }
}

/** Monday 00:00 UTC of the week holding `at` (epoch ms). */
export function startOfWeek(at: number): number {
  return Math.floor((at - MONDAY_OFFSET_MS) / WEEK_MS) * WEEK_MS + MONDAY_OFFSET_MS;
}

function dayName(day: Date): string {
  return day.toISOString().slice(0, 10);
}

function formatDays(ms: number): string {
  return ms % DAY_MS === 0 ? `${ms / DAY_MS}d` : `${Math.round(ms / 3_600_000)}h`;
}
