import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { randomBytes, randomUUID } from 'node:crypto';
import { dataSourceOptions } from '../libs/shared/src/database/data-source';
import { HistoryMaintenance, MaintenanceReport, startOfWeek } from '../libs/shared/src/database/history-maintenance';
import { MIGRATIONS } from '../libs/shared/src/database/migrations';
import { PartitionedHistory1764360000000 } from '../libs/shared/src/database/migrations/1764360000000-partitioned-history';
import { migrateDatabase } from '../libs/shared/src/database/prepare-database';
import { WebhookFanOut } from '../libs/shared/src/webhooks/webhook-fan-out.service';
import { generateWebhookSecret, SecretBox } from '../libs/shared/src/webhooks/secret-box';
import { readApiConfig } from '../apps/api/src/config/api-config';
import { createBooking, createVideoApp, startTestApi, TestApi, TestVideoApp } from './support/test-api';
import { TestReceiver } from './support/test-receiver';
import { startTestWorker, TestWorker } from './support/test-worker';
import { ADMIN_DATABASE_URL, databaseUrl, runId } from './support/test-env';
import { waitFor } from './support/wait-for';

jest.setTimeout(120_000);

const DAY = 86_400_000;
const RETENTION = 30 * DAY;
const startOfDay = (at: number): number => Math.floor(at / DAY) * DAY;
const dayName = (at: number): string => new Date(at).toISOString().slice(0, 10);

/** The weeks (their Monday) that have partitions of `table`, oldest first. */
async function partitionWeeks(db: DataSource, table: string): Promise<string[]> {
  const rows: Array<{ day: string }> = await db.query(
    `SELECT substring(c.relname FROM '_p([0-9]{8})$') AS day FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = $1::regclass AND c.relname ~ '_p[0-9]{8}$' ORDER BY 1`,
    [table],
  );
  return rows.map((r) => `${r.day.slice(0, 4)}-${r.day.slice(4, 6)}-${r.day.slice(6)}`);
}

describe('Partitioned history and retention', () => {
  let api: TestApi;
  let app: TestVideoApp;
  let maintenance: HistoryMaintenance;

  beforeAll(async () => {
    api = await startTestApi();
    app = await createVideoApp(api);
    maintenance = new HistoryMaintenance(api.db, { retentionMs: RETENTION, lockTimeoutMs: 100 });
  });
  afterAll(() => api.close());

  it('keeps weeks ahead, ends unfinished deliveries at the retention and drops each week once all of it is older; bookings stay', async () => {
    const held = (
      await api.http
        .post(`/v1/apps/${app.id}/webhook-subscriptions`)
        .set(app.auth)
        .send({ url: 'http://127.0.0.1:9/held', events: ['*'] })
        .expect(201)
    ).body;
    await api.http.post(`/v1/apps/${app.id}/webhook-subscriptions/${held.id}/pause`).set(app.auth).expect(200);
    const first = startOfDay(Date.now()) - 45 * DAY + 12 * 3_600_000;
    const reports: MaintenanceReport[] = [];
    const bookings: number[] = [];
    // 45 days pass in a loop: each day the maintenance runs, and one booking is made.
    for (let d = 0; d < 45; d++) {
      const at = first + d * DAY;
      api.clock.set(new Date(at));
      reports.push(await maintenance.run(new Date(at)));
      await createBooking(api, app);
      bookings.push(at);
    }
    await api.app.get(WebhookFanOut).idle();
    await api.app.get(WebhookFanOut).drain();

    const last = first + 44 * DAY;
    const cutoff = last - RETENTION;
    const weeks = await partitionWeeks(api.db, 'webhook_deliveries');
    // Kept: the week holding the cutoff and every later one; a week ahead exists; all older are gone.
    expect(weeks[0]).toBe(dayName(startOfWeek(cutoff)));
    expect(weeks).toContain(dayName(startOfWeek(last + 7 * DAY)));
    expect(await partitionWeeks(api.db, 'outbox_events')).toEqual(weeks);
    expect(await partitionWeeks(api.db, 'webhook_attempts')).toEqual(weeks);
    expect(reports.flatMap((r) => r.dropped).sort()).toEqual(
      [...new Set(bookings.map((at) => startOfWeek(at)).filter((week) => week + 7 * DAY <= cutoff))].map(dayName).sort(),
    );

    // Bookings stay; events and deliveries are those of the kept weeks only.
    expect((await api.db.query(`SELECT count(*)::int AS n FROM scheduled_calls WHERE app_id = $1`, [app.id]))[0].n).toBe(45);
    const kept = bookings.filter((at) => at >= startOfWeek(cutoff));
    expect((await api.db.query(`SELECT count(*)::int AS n FROM outbox_events WHERE app_id = $1`, [app.id]))[0].n).toBe(kept.length);
    expect((await api.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries_default`))[0].n).toBe(0);

    // Each held delivery was ended once older than the retention, and counted in the pass that did it.
    const expired = bookings.filter((at) => at < cutoff).length;
    expect(reports.reduce((sum, r) => sum + (r.expiredDeliveries.get(held.id) ?? 0), 0)).toBe(expired);
    const states: Array<{ status: string; n: number }> = await api.db.query(
      `SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE subscription_id = $1 GROUP BY status ORDER BY status`,
      [held.id],
    );
    expect(states).toEqual(
      [
        { status: 'failed', n: kept.filter((at) => at < cutoff).length },
        { status: 'held', n: kept.filter((at) => at >= cutoff).length },
      ].filter((row) => row.n > 0),
    );
  });

  it('ends an expired held delivery as failed with an attempt saying so, and keeps its week while the drop cannot get its lock', async () => {
    const sub = (
      await api.http
        .post(`/v1/apps/${app.id}/webhook-subscriptions`)
        .set(app.auth)
        .send({ url: 'http://127.0.0.1:9/expiring', events: ['scheduled.created'] })
        .expect(201)
    ).body;
    await api.http.post(`/v1/apps/${app.id}/webhook-subscriptions/${sub.id}/pause`).set(app.auth).expect(200);
    const at = startOfDay(Date.now()) + 3 * DAY + 3_600_000;
    api.clock.set(new Date(at));
    await maintenance.run(new Date(at));
    await createBooking(api, app);
    await api.app.get(WebhookFanOut).idle();
    await api.app.get(WebhookFanOut).drain();
    const [delivery] = await api.db.query(`SELECT id, status, event_at FROM webhook_deliveries WHERE subscription_id = $1`, [sub.id]);
    expect(delivery.status).toBe('held');

    // A reader holds the day's deliveries partition: the drop waits for at most lockTimeoutMs, then defers.
    const blocker = new Client({ connectionString: api.databaseUrl });
    await blocker.connect();
    const week = dayName(startOfWeek(at));
    const partition = `webhook_deliveries_p${week.replace(/-/g, '')}`;
    await blocker.query('BEGIN');
    await blocker.query(`SELECT count(*) FROM ${partition}`);
    // Long enough after for the whole week to be older than the retention.
    const later = new Date(at + RETENTION + 8 * DAY);
    const started = Date.now();
    const report = await maintenance.run(later);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(report.expiredDeliveries.get(sub.id)).toBe(1);
    expect(report.deferred).toContain(week);
    const response = (await api.http.get(`/v1/apps/${app.id}/webhook-deliveries/${delivery.id}`).set(app.auth).expect(200)).body;
    expect(response.status).toBe('failed');
    expect(response.attempts).toEqual([
      expect.objectContaining({ attempt: 1, error: expect.stringMatching(/^expired: not delivered within the retention period \(WEBHOOK_RETENTION, 30d\)/) }),
    ]);
    await blocker.query('COMMIT');
    await blocker.end();

    const again = await maintenance.run(later);
    expect(again.dropped).toContain(week);
    expect(again.expiredDeliveries.size).toBe(0);
    await api.http.get(`/v1/apps/${app.id}/webhook-deliveries/${delivery.id}`).set(app.auth).expect(404);
  });

  it('takes rows written outside every created week into the DEFAULT partition, then moves them into their week when it is created', async () => {
    const far = startOfDay(Date.now()) + 60 * DAY + 3_600_000;
    api.clock.set(new Date(far));
    const call = await createBooking(api, app);
    await api.app.get(WebhookFanOut).idle();
    const [{ n: inDefault }] = await api.db.query(`SELECT count(*)::int AS n FROM outbox_events_default WHERE scheduled_call_id = $1`, [call.id]);
    expect(inDefault).toBe(1);
    const pendingBefore = (await api.db.query(`SELECT count(*)::int AS n FROM outbox_pending`))[0].n;

    const report = await maintenance.run(new Date(far - 2 * DAY));
    expect(report.created).toContain(dayName(startOfWeek(far)));
    expect((await api.db.query(`SELECT count(*)::int AS n FROM outbox_events_default`))[0].n).toBe(0);
    expect((await api.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries_default`))[0].n).toBe(0);
    const partition = `outbox_events_p${dayName(startOfWeek(far)).replace(/-/g, '')}`;
    expect((await api.db.query(`SELECT count(*)::int AS n FROM ${partition} WHERE scheduled_call_id = $1`, [call.id]))[0].n).toBe(1);
    // Moving rows is not a new event: nothing is listed for the fan-out again.
    expect((await api.db.query(`SELECT count(*)::int AS n FROM outbox_pending`))[0].n).toBe(pendingBefore);
  });

  it('runs one pass at a time across processes: a pass that finds the lock taken does nothing', async () => {
    const other = new Client({ connectionString: api.databaseUrl });
    await other.connect();
    await other.query('SELECT pg_advisory_lock(7264312)');
    const far = new Date(startOfDay(Date.now()) + 200 * DAY);
    const before = await partitionWeeks(api.db, 'outbox_events');
    const skipped = await maintenance.run(far);
    expect(skipped).toMatchObject({ ran: false, created: [], dropped: [] });
    expect(await partitionWeeks(api.db, 'outbox_events')).toEqual(before);
    await other.query('SELECT pg_advisory_unlock(7264312)');
    await other.end();
    const ran = await maintenance.run(far);
    expect(ran.ran).toBe(true);
    expect(ran.created).toContain(dayName(startOfWeek(far.getTime())));
  });
});

describe('Migration of a populated database to partitioned history', () => {
  const name = `scw_test_${runId()}_mig_${randomBytes(3).toString('hex')}`;
  const url = databaseUrl(name);
  let old: DataSource;
  let api: TestApi | undefined;
  let worker: TestWorker | undefined;
  let receiver: TestReceiver | undefined;

  beforeAll(async () => {
    const admin = new Client({ connectionString: ADMIN_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    // The schema as the previous release left it: every migration before partitioned history.
    old = new DataSource({
      ...dataSourceOptions(url, 2, 'test-old-schema'),
      migrations: MIGRATIONS.slice(0, MIGRATIONS.indexOf(PartitionedHistory1764360000000)),
    });
    await old.initialize();
    await old.runMigrations({ transaction: 'each' });
  });
  afterAll(async () => {
    await worker?.close();
    await receiver?.stop();
    await api?.close();
    if (old.isInitialized) await old.destroy();
  });

  it('copies every event, delivery and attempt, keeps undispatched events owed, and the platform carries on with them', async () => {
    receiver = await new TestReceiver().start();
    const appId = randomUUID();
    const subId = randomUUID();
    const now = Date.now();
    await old.query(`INSERT INTO video_apps (id, name, created_at, updated_at) VALUES ($1, 'Legacy', now(), now())`, [appId]);
    await old.query(
      `INSERT INTO webhook_subscriptions (id, app_id, url, events, secret_ciphertext, created_at, updated_at)
       VALUES ($1, $2, $3, ARRAY['*'], $4, now(), now())`,
      [subId, appId, receiver.url, new SecretBox(readApiConfig({ ...process.env, NODE_ENV: 'test' }).secretsKey).seal(generateWebhookSecret(), subId)],
    );
    // 12 days of history: 5 bookings a day, each with one event, a succeeded delivery and attempts;
    // the last day's events not fanned out yet.
    await old.query(
      `WITH days AS (SELECT d, i FROM generate_series(0, 11) AS d, generate_series(1, 5) AS i),
       calls AS (
         INSERT INTO scheduled_calls (id, app_id, status, scheduled_at, ends_at, duration_minutes, timezone, guest, requires_confirmation, created_at, updated_at)
         SELECT gen_random_uuid(), $1, 'scheduled', now() + interval '1 day', now() + interval '1 day', 30, 'UTC', '{}', false,
                $2::timestamptz - (11 - d) * interval '1 day' + i * interval '1 minute', now()
           FROM days RETURNING id, created_at
       )
       INSERT INTO outbox_events (id, app_id, scheduled_call_id, type, payload, occurred_at, dispatched_at)
       SELECT gen_random_uuid(), $1, id, 'scheduled.created', json_build_object('scheduled_call', json_build_object('id', id)), created_at,
              CASE WHEN created_at < $2::timestamptz - interval '12 hours' THEN created_at END
         FROM calls ORDER BY created_at`,
      [appId, new Date(now)],
    );
    await old.query(
      `INSERT INTO webhook_deliveries (id, app_id, subscription_id, event_id, event, status, attempt_count, created_at, updated_at, last_response_status)
       SELECT gen_random_uuid(), app_id, $1, id, type, 'succeeded', 2, occurred_at, occurred_at, 200 FROM outbox_events WHERE dispatched_at IS NOT NULL`,
      [subId],
    );
    await old.query(
      `INSERT INTO webhook_attempts (delivery_id, attempt, trigger, started_at, duration_ms, response_status, response_body, error)
       SELECT d.id, n, 'automatic', d.created_at + n * interval '1 second', 10 * n, CASE WHEN n = 1 THEN 500 ELSE 200 END, 'body ' || n, NULL
         FROM webhook_deliveries d, generate_series(1, 2) AS n`,
    );
    const fingerprint = (db: DataSource) =>
      db.query(`
      SELECT (SELECT count(*)::int FROM outbox_events) AS events, (SELECT max(seq)::int FROM outbox_events) AS max_seq,
             (SELECT md5(string_agg(id::text || type || payload::text || occurred_at::text, ',' ORDER BY id)) FROM outbox_events) AS events_hash,
             (SELECT count(*)::int FROM webhook_deliveries) AS deliveries,
             (SELECT md5(string_agg(id::text || event_id::text || status || attempt_count || created_at::text, ',' ORDER BY id)) FROM webhook_deliveries) AS deliveries_hash,
             (SELECT count(*)::int FROM webhook_attempts) AS attempts,
             (SELECT md5(string_agg(delivery_id::text || attempt || started_at::text || duration_ms || response_body, ',' ORDER BY delivery_id, attempt)) FROM webhook_attempts) AS attempts_hash`);
    const [before] = await fingerprint(old);
    const undispatched: Array<{ id: string }> = await old.query(`SELECT id FROM outbox_events WHERE dispatched_at IS NULL`);
    expect(before.events).toBe(60);
    expect(undispatched.length).toBeGreaterThan(0);
    await old.destroy();

    expect(await migrateDatabase(url)).toEqual(['PartitionedHistory1764360000000', 'DeliveryInspection1764370000000', 'TraceContext1764380000000']);
    api = await startTestApi({ DATABASE_URL: url });
    const db = new DataSource(dataSourceOptions(url, 2, 'test-migrated'));
    await db.initialize();
    try {
      const [after] = await fingerprint(db);
      expect(after).toEqual(before);
      expect((await db.query(`SELECT event_id FROM outbox_pending ORDER BY seq`)).map((r: { event_id: string }) => r.event_id).sort()).toEqual(
        undispatched.map((r) => r.id).sort(),
      );
      // Each delivery and its attempts sit in the partition of its event's day.
      const misplaced = await db.query(`
        SELECT count(*)::int AS n FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id
         WHERE d.event_at <> date_trunc('milliseconds', e.occurred_at) OR d.scheduled_call_id <> e.scheduled_call_id
            OR d.tableoid::regclass::text <> 'webhook_deliveries_p' || to_char(date_trunc('week', e.occurred_at AT TIME ZONE 'UTC'), 'YYYYMMDD')`);
      expect(misplaced[0].n).toBe(0);
      expect((await db.query(`SELECT count(*)::int AS n FROM webhook_attempts_default`))[0].n).toBe(0);

      // A legacy delivery (random id) is still found with its attempts.
      const [legacy] = await db.query(`SELECT id FROM webhook_deliveries ORDER BY event_at LIMIT 1`);
      const detail = (
        await api.http.get(`/v1/apps/${appId}/webhook-deliveries/${legacy.id}`).set({ authorization: 'Bearer test-operator-token-0123456789' }).expect(200)
      ).body;
      expect(detail.attempts.map((a: { attempt: number }) => a.attempt)).toEqual([1, 2]);

      // The events owed are fanned out and delivered; new events continue the sequence.
      worker = await startTestWorker(api);
      await waitFor(
        'the owed events to be delivered',
        async () => (await db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'succeeded'`))[0].n === 60,
        30_000,
      );
      expect(new Set(receiver.requests.map((r) => r.json?.id))).toEqual(new Set(undispatched.map((r) => r.id)));
      await worker.close();
      worker = undefined;
      await api.close();
      api = undefined;
      const [{ seq }] = await db.query(`INSERT INTO outbox_events (id, app_id, scheduled_call_id, type, payload, occurred_at)
        SELECT gen_random_uuid(), app_id, scheduled_call_id, type, payload, now() FROM outbox_events LIMIT 1 RETURNING seq::int`);
      expect(seq).toBeGreaterThan(before.max_seq);

      // And back: the revert restores the flat tables with every row (and the new event, still owed).
      const [current] = await fingerprint(db);
      // First the trace context columns (a catalog change, rows untouched)…
      await db.undoLastMigration({ transaction: 'each' });
      expect(await fingerprint(db)).toEqual([current]);
      expect(await db.query(`SELECT table_name FROM information_schema.columns WHERE column_name = 'trace_context'`)).toEqual([]);
      // …then the attempt-log columns and test sends' nullable booking (a catalog change, rows untouched)…
      await db.undoLastMigration({ transaction: 'each' });
      expect(await fingerprint(db)).toEqual([current]);
      const columns = await db.query(`SELECT table_name, column_name, is_nullable FROM information_schema.columns
        WHERE (table_name = 'webhook_attempts' AND column_name IN ('request_headers', 'response_headers'))
           OR (table_name IN ('outbox_events', 'webhook_deliveries') AND column_name = 'scheduled_call_id') ORDER BY 1, 2`);
      expect(columns).toEqual([
        { table_name: 'outbox_events', column_name: 'scheduled_call_id', is_nullable: 'NO' },
        { table_name: 'webhook_deliveries', column_name: 'scheduled_call_id', is_nullable: 'NO' },
      ]);
      // …then the partitioned history itself.
      await db.undoLastMigration({ transaction: 'each' });
      const [reverted] = await fingerprint(db);
      expect(reverted).toEqual(current);
      expect((await db.query(`SELECT count(*)::int AS n FROM outbox_events WHERE dispatched_at IS NULL`))[0].n).toBe(1);
    } finally {
      await db.destroy();
    }
  });
});
