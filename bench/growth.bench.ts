/**
 * `npm run bench:growth`: do costs stay flat as history piles up? Against a private PostgreSQL 15
 * configured as production would be (autovacuum on, shared_buffers a quarter of the machine's
 * memory), started from the machine's binaries on a free port in a temporary folder, it seeds a
 * 30-day history with SQL (BENCH_GROWTH_EVENTS, default 5.1 M events, each with one delivery and
 * 1.15 attempts on average, and 1.7 M bookings), then measures in the same run, on the seeded and
 * on an empty database:
 *   - the hot statements through the real classes: fan-out of 500 events, claim, success and
 *     failure record of 100 deliveries, a sweep;
 *   - the first page of every list filter (delivery log, scheduled calls) and a subscription's GET;
 *   - bench:delivery's burst throughput and steady p99 (real API and worker processes);
 *   - bytes per event (events, deliveries and attempts on disk, after VACUUM).
 * The statements and pages are measured in alternating rounds on the two databases (median of the
 * rounds), bench:delivery once on each.
 * Prints one JSON line last with each figure and `*_ratio` = seeded / empty (target ≤ 1.1).
 * BENCH_GROWTH_KEEP=<dir> keeps (or reuses) the seeded instance's data folder between runs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { INestApplication } from '@nestjs/common';
import { readApiConfig } from '../apps/api/src/config/api-config';
import { createApiApp } from '../apps/api/src/api-app';
import { ScheduledCallsService } from '../apps/api/src/bookings/scheduled-calls.service';
import { WebhookDeliveriesService } from '../apps/api/src/webhooks/webhook-deliveries.service';
import { WebhookSubscriptionsService } from '../apps/api/src/webhooks/webhook-subscriptions.service';
import { readWorkerConfig } from '../apps/worker/src/config/worker-config';
import { DeliveryAttemptsRepository, ClaimedDelivery } from '../apps/worker/src/delivery/delivery-attempts.repository';
import { DeliverySweepRepository } from '../apps/worker/src/delivery/delivery-sweep.repository';
import { DeliverySweeper } from '../apps/worker/src/delivery/delivery-sweeper';
import type { SendResult } from '../apps/worker/src/delivery/webhook-sender';
import { SystemClock } from '../libs/shared/src/clock/clock';
import { createDataSource } from '../libs/shared/src/database/data-source';
import { ensureDatabase, migrateDatabase } from '../libs/shared/src/database/prepare-database';
import { DeliveryQueue } from '../libs/shared/src/webhooks/delivery-queue';
import { DeliveryScheduler } from '../libs/shared/src/webhooks/delivery-scheduler';
import { SecretBox, generateWebhookSecret } from '../libs/shared/src/webhooks/secret-box';
import { WebhookFanOut } from '../libs/shared/src/webhooks/webhook-fan-out.service';
import { Tracing } from '../libs/shared/src/tracing/tracing';
import { runDeliveryBench } from './delivery.bench';
import { bookingRecord, freePort, insertBookingEvents, percentile, progress, round } from './support';

const DAY = 86_400_000;
const EVENTS = Number(process.env.BENCH_GROWTH_EVENTS ?? 5_100_000);
const DAYS = 30;
const APPS = 20;
/** Alternating rounds of the hot statements and list pages on the two databases. */
const STATEMENT_ROUNDS = Number(process.env.BENCH_GROWTH_ROUNDS ?? 4);
const ADMIN_TOKEN = 'bench-operator-token-0123456789';
const SECRETS_KEY = 'bench-secrets-key-0123456789-0123456789';
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

interface Instance {
  port: number;
  dir: string;
  url(database: string): string;
  stop(): void;
}

/** A PostgreSQL of our own: initdb as the postgres user, production-like settings, a free port. */
async function startInstance(): Promise<Instance> {
  const keep = process.env.BENCH_GROWTH_KEEP;
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'scw-growth-'));
  mkdirSync(dir, { recursive: true });
  const data = join(dir, 'data');
  const asPostgres = (command: string, args: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, command), ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  if (!existsSync(join(data, 'PG_VERSION'))) {
    progress(`initdb in ${data}`);
    asPostgres('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync']);
  }
  const port = await freePort();
  const sharedBuffersMb = Math.floor(totalmem() / 4 / 1024 / 1024);
  writeFileSync(
    join(data, 'postgresql.auto.conf'),
    [
      `port = ${port}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${dir}'`,
      `shared_buffers = '${sharedBuffersMb}MB'`,
      `effective_cache_size = '${sharedBuffersMb * 2}MB'`,
      `work_mem = '16MB'`,
      `maintenance_work_mem = '1GB'`,
      `max_connections = 200`,
      'autovacuum = on',
      `max_wal_size = '16GB'`,
      `checkpoint_timeout = '15min'`,
      'checkpoint_completion_target = 0.9',
      `random_page_cost = 1.1`,
      `effective_io_concurrency = 200`,
      '',
    ].join('\n'),
  );
  execFileSync('chown', ['postgres:postgres', join(data, 'postgresql.auto.conf')]);
  progress(`starting PostgreSQL on 127.0.0.1:${port} (shared_buffers ${sharedBuffersMb} MB, autovacuum on)`);
  asPostgres('pg_ctl', ['-D', data, '-l', join(dir, 'postgres.log'), '-w', 'start']);
  return {
    port,
    dir,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    stop() {
      try {
        asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        if (!keep) rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

interface Tenant {
  appId: string;
  subscriptionId: string;
}

async function createTenants(url: string): Promise<Tenant[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const existing: Array<{ app_id: string; id: string }> = (await c.query(`SELECT app_id, id FROM webhook_subscriptions ORDER BY url`)).rows;
    if (existing.length === APPS) return existing.map((row) => ({ appId: row.app_id, subscriptionId: row.id }));
    const box = new SecretBox(SECRETS_KEY);
    const tenants: Tenant[] = [];
    for (let i = 0; i < APPS; i++) {
      const appId = (
        await c.query(`INSERT INTO video_apps (id, name, created_at, updated_at) VALUES (gen_random_uuid(), $1, now(), now()) RETURNING id`, [`Tenant ${i}`])
      ).rows[0].id;
      const id = (await c.query(`SELECT gen_random_uuid() AS id`)).rows[0].id;
      await c.query(
        `INSERT INTO webhook_subscriptions (id, app_id, url, events, secret_ciphertext, created_at, updated_at) VALUES ($1, $2, $3, ARRAY['*'], $4, now(), now())`,
        [id, appId, `http://127.0.0.1:9/tenant-${String(i).padStart(2, '0')}`, box.seal(generateWebhookSecret(), id)],
      );
      tenants.push({ appId, subscriptionId: id });
    }
    return tenants;
  } finally {
    await c.end();
  }
}

/**
 * One day of history per statement group: bookings (a third of the events), three events each
 * (created, confirmed, then cancelled or rescheduled), one delivery per event to its app's
 * subscription (all succeeded, but 1% failed in the first ten apps), and one attempt per delivery
 * plus a failed first attempt for 15% of them.
 */
async function seedDay(c: Client, day: number, eventsPerDay: number): Promise<void> {
  const calls = Math.floor(eventsPerDay / 3);
  await c.query('BEGIN');
  await c.query(`SET LOCAL synchronous_commit = off`);
  await c.query(
    `CREATE TEMP TABLE seed_calls ON COMMIT DROP AS
     SELECT uuid_v7_at(t) AS id, apps.ids[1 + i % ${APPS}] AS app_id, i, t
       FROM (SELECT array_agg(app_id ORDER BY url) AS ids FROM webhook_subscriptions) apps,
            generate_series(0, $2::int - 1) AS i,
            LATERAL (SELECT $1::timestamptz + (i::bigint * ${DAY} / $2::int) * interval '1 millisecond' AS t) x`,
    [new Date(day), calls],
  );
  await c.query(
    `INSERT INTO scheduled_calls (id, app_id, status, scheduled_at, ends_at, duration_minutes, timezone, guest, agent, requires_confirmation,
                                  metadata, version, reschedule_count, confirmed_at, cancelled_at, created_at, updated_at)
     SELECT id, app_id, CASE WHEN i % 20 < 7 THEN 'cancelled' WHEN i % 20 < 17 THEN 'confirmed' ELSE 'scheduled' END,
            t + interval '2 days', t + interval '2 days 30 minutes', 30, 'Europe/Paris',
            jsonb_build_object('name', 'Guest ' || i, 'email', 'guest' || i || '@example.com', 'phone', '+14155550100'),
            jsonb_build_object('id', 'agent-' || (i % 50), 'name', 'Agent ' || (i % 50), 'email', 'agent@example.com'), false,
            jsonb_build_object('source', 'seed', 'order', i), 3, 0, t + interval '1 minute',
            CASE WHEN i % 20 < 7 THEN t + interval '2 minutes' END, t, t + interval '2 minutes'
       FROM seed_calls`,
  );
  await c.query(
    `CREATE TEMP TABLE seed_events ON COMMIT DROP AS
     SELECT uuid_v7_at(at) AS id, c.app_id, c.id AS call_id, e.type, at, c.i * 3 + e.n AS k,
            json_build_object('scheduled_call', json_build_object(
              'id', c.id, 'app_id', c.app_id, 'status', e.status, 'scheduled_at', c.t + interval '2 days', 'ends_at', c.t + interval '2 days 30 minutes',
              'duration_minutes', 30, 'timezone', 'Europe/Paris',
              'guest', json_build_object('name', 'Guest ' || c.i, 'email', 'guest' || c.i || '@example.com', 'phone', '+14155550100'),
              'agent', json_build_object('id', 'agent-1', 'name', 'Agent Smith', 'email', 'agent@example.com'),
              'requires_confirmation', false, 'previous_scheduled_at', NULL, 'reschedule_count', 0, 'reschedule_reason', NULL,
              'confirmed_at', NULL, 'cancelled_at', NULL, 'cancellation_reason', NULL, 'no_show_at', NULL, 'guest_joined_at', NULL,
              'agent_joined_at', NULL, 'metadata', json_build_object('source', 'seed', 'notes', repeat('x', 300)), 'version', e.n + 1,
              'created_at', c.t, 'updated_at', at)) AS payload
       FROM seed_calls c
       CROSS JOIN LATERAL (VALUES (0, 'scheduled.created', 'scheduled'), (1, 'scheduled.confirmed', 'confirmed'),
                                  (2, CASE WHEN c.i % 2 = 0 THEN 'scheduled.cancelled' ELSE 'scheduled.rescheduled' END,
                                      CASE WHEN c.i % 2 = 0 THEN 'cancelled' ELSE 'confirmed' END)) AS e(n, type, status)
       CROSS JOIN LATERAL (SELECT date_trunc('milliseconds', c.t + e.n * interval '1 minute') AS at) a`,
  );
  // Straight into the partitions' parent without the trigger's pending rows: these are dispatched.
  await c.query(`SET LOCAL scw.moving_rows = 'on'`);
  await c.query(
    `INSERT INTO outbox_events (id, app_id, scheduled_call_id, type, payload, occurred_at) SELECT id, app_id, call_id, type, payload, at FROM seed_events ORDER BY at`,
  );
  await c.query(`SET LOCAL scw.moving_rows = 'off'`);
  await c.query(
    `CREATE TEMP TABLE seed_deliveries ON COMMIT DROP AS
     SELECT uuid_v7_at(e.at) AS id, e.at, e.app_id, s.id AS subscription_id, e.id AS event_id, e.call_id, e.type, e.k,
            CASE WHEN e.k % 100 = 0 AND s.url < 'http://127.0.0.1:9/tenant-10' THEN 'failed' ELSE 'succeeded' END AS status
       FROM seed_events e JOIN webhook_subscriptions s ON s.app_id = e.app_id`,
  );
  await c.query(
    `INSERT INTO webhook_deliveries (id, event_at, app_id, subscription_id, event_id, scheduled_call_id, event, status, attempt_count,
                                     next_attempt_at, last_response_status, created_at, updated_at)
     SELECT id, at, app_id, subscription_id, event_id, call_id, type, status, CASE WHEN k % 7 = 0 THEN 2 ELSE 1 END,
            NULL, CASE WHEN status = 'failed' THEN 500 ELSE 200 END, at + interval '5 milliseconds', at + interval '30 milliseconds'
       FROM seed_deliveries ORDER BY at`,
  );
  await c.query(
    `INSERT INTO webhook_attempts (delivery_id, event_at, attempt, trigger, started_at, duration_ms, response_status, response_body, error,
                                   request_headers, response_headers)
     SELECT d.id, d.at, n, 'automatic', d.at + n * interval '10 milliseconds', 12,
            CASE WHEN n = 1 AND d.k % 7 = 0 OR d.status = 'failed' THEN 500 ELSE 200 END,
            CASE WHEN n = 1 AND d.k % 7 = 0 OR d.status = 'failed' THEN 'Internal Server Error' ELSE 'ok' END, NULL,
            -- The headers as the worker stores them (webhook-request.ts), a real signature's length.
            jsonb_build_object('content-type', 'application/json', 'user-agent', 'ApifyCloud-Webhooks/1.0', 'accept-encoding', 'identity',
              'x-apifycloud-signature', 'sha256=' || encode(sha256(d.id::text::bytea), 'hex'), 'x-apifycloud-event', d.type,
              'x-apifycloud-delivery', d.subscription_id || ':' || n,
              'x-apifycloud-timestamp', to_char((d.at + n * interval '10 milliseconds') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
              'x-apifycloud-event-id', d.event_id),
            jsonb_build_object('content-type', 'text/plain', 'content-length', '2')
       FROM seed_deliveries d CROSS JOIN LATERAL generate_series(1, CASE WHEN d.k % 7 = 0 THEN 2 ELSE 1 END) AS n
      ORDER BY d.at`,
  );
  await c.query('COMMIT');
}

async function seed(url: string, today: number): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const existing = (await c.query(`SELECT count(*)::int AS n FROM outbox_events`)).rows[0].n;
    if (existing >= EVENTS * 0.99) {
      progress(`seeded history found (${existing} events): reusing it`);
      return;
    }
    const perDay = Math.ceil(EVENTS / DAYS);
    for (let d = DAYS; d >= 1; d--) {
      const day = today - d * DAY;
      await c.query(`SELECT history_create_partitions($1::date)`, [new Date(day).toISOString().slice(0, 10)]);
      const t0 = performance.now();
      await seedDay(c, day, perDay);
      progress(`seeded ${new Date(day).toISOString().slice(0, 10)}: ${perDay} events (${Math.round(performance.now() - t0)} ms), ${DAYS - d + 1}/${DAYS} days`);
    }
    progress('VACUUM ANALYZE (autovacuum would have, over 30 days)');
    await c.query('VACUUM (ANALYZE)');
    await c.query('CHECKPOINT');
  } finally {
    await c.end();
  }
}

async function bytesPerEvent(
  url: string,
): Promise<{ events: number; deliveries: number; attempts: number; bookings: number; bytes_per_event: number; bytes_per_booking: number }> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const size = async (table: string): Promise<number> =>
      Number(
        (await c.query(`SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0) AS n FROM pg_inherits i WHERE i.inhparent = $1::regclass`, [table])).rows[0]
          .n,
      );
    const count = async (table: string): Promise<number> => Number((await c.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
    const [events, deliveries, attempts, bookings] = [
      await count('outbox_events'),
      await count('webhook_deliveries'),
      await count('webhook_attempts'),
      await count('scheduled_calls'),
    ];
    const history = (await size('outbox_events')) + (await size('webhook_deliveries')) + (await size('webhook_attempts'));
    const bookingBytes = Number((await c.query(`SELECT pg_total_relation_size('scheduled_calls') AS n`)).rows[0].n);
    return {
      events,
      deliveries,
      attempts,
      bookings,
      bytes_per_event: Math.round(history / Math.max(1, events)),
      bytes_per_booking: Math.round(bookingBytes / Math.max(1, bookings)),
    };
  } finally {
    await c.end();
  }
}

/** Median of `runs` timed calls after `warmup` untimed ones, in ms. */
async function timed(runs: number, task: (i: number) => Promise<unknown>, warmup = 3): Promise<number> {
  for (let i = 0; i < warmup; i++) await task(-1 - i);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await task(i);
    samples.push(performance.now() - t0);
  }
  return percentile(
    samples.sort((a, b) => a - b),
    50,
  );
}

/** The worker's statements through its own classes; the queue and scheduler are stand-ins (Redis is not what is measured). */
async function hotStatements(url: string, tenant: Tenant): Promise<Record<string, number>> {
  const config = readWorkerConfig({ DATABASE_URL: url, WEBHOOK_SWEEP_GRACE: '0s', SECRETS_KEY });
  const db: DataSource = createDataSource(url, 10, 'bench-growth');
  await db.initialize();
  const clock = new SystemClock();
  const scheduler = { offer: async (rows: unknown[]) => rows.length, setCircuit: async () => undefined } as unknown as DeliveryScheduler;
  const queue = { enqueue: async () => undefined, scheduler } as unknown as DeliveryQueue;
  const fanOut = new WebhookFanOut(db, queue, clock, Tracing.disabled);
  const attempts = new DeliveryAttemptsRepository(db, config);
  const sweeper = new DeliverySweeper(new DeliverySweepRepository(db), fanOut, scheduler, clock, config);
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    const fanouts: number[] = [];
    for (let i = -3; i < 10; i++) {
      await pg.query('BEGIN');
      await insertBookingEvents(
        pg,
        tenant.appId,
        Array.from({ length: 500 }, (_, k) => bookingRecord(k + (i + 10) * 1_000, tenant.appId)),
      );
      await pg.query('COMMIT');
      const t0 = performance.now();
      await fanOut.drain();
      if (i >= 0) fanouts.push(performance.now() - t0);
    }
    const fanout = percentile(
      fanouts.sort((a, b) => a - b),
      50,
    );
    const pending = async (): Promise<string[]> =>
      (
        await pg.query(`SELECT id FROM webhook_deliveries WHERE subscription_id = $1 AND status = 'pending' AND lease_token IS NULL LIMIT 100`, [
          tenant.subscriptionId,
        ])
      ).rows.map((r) => r.id);
    const claims: number[] = [];
    const result = (ok: boolean): SendResult => ({
      ok,
      failure: ok ? null : 'http',
      status: ok ? 200 : 500,
      body: ok ? 'ok' : 'error',
      startedAt: new Date(),
      durationMs: 5,
      error: ok ? null : 'HTTP 500',
      retryAfterMs: null,
      requestHeaders: null,
      responseHeaders: null,
    });
    // 100 concurrent claims become one statement (the repository's micro-batch), as in the worker.
    const claimBatch = async (): Promise<ClaimedDelivery[]> => {
      const ids = await pending();
      const now = new Date();
      const t0 = performance.now();
      const claimed = (await Promise.all(ids.map((id) => attempts.claim(id, now)))).filter((c): c is ClaimedDelivery => c !== null);
      claims.push(performance.now() - t0);
      return claimed;
    };
    let batch: ClaimedDelivery[] = [];
    const recordSuccess: number[] = [];
    const recordFailure: number[] = [];
    for (let i = 0; i < 8; i++) {
      batch = await claimBatch();
      let t0 = performance.now();
      await Promise.all(batch.map((c) => attempts.record(c, result(true))));
      recordSuccess.push(performance.now() - t0);
      batch = await claimBatch();
      t0 = performance.now();
      await Promise.all(batch.map((c) => attempts.record(c, result(false))));
      recordFailure.push(performance.now() - t0);
    }
    const sweep = await timed(10, () => sweeper.sweep());
    // Nothing of this may be sent by the workers bench:delivery starts next.
    await pg.query(
      `UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, lease_token = NULL, lease_until = NULL
                     WHERE subscription_id = $1 AND status IN ('pending', 'retrying')`,
      [tenant.subscriptionId],
    );
    return {
      fanout_500_ms: round(fanout, 2),
      claim_100_ms: round(
        percentile(
          claims.sort((a, b) => a - b),
          50,
        ),
        2,
      ),
      record_success_100_ms: round(
        percentile(
          recordSuccess.sort((a, b) => a - b),
          50,
        ),
        2,
      ),
      record_failure_100_ms: round(
        percentile(
          recordFailure.sort((a, b) => a - b),
          50,
        ),
        2,
      ),
      sweep_ms: round(sweep, 2),
    };
  } finally {
    await pg.end();
    await db.destroy();
  }
}

/** The first page of every list filter, through the API's own services (no HTTP in the timing). */
async function listPages(url: string, tenant: Tenant, busy: Tenant): Promise<Record<string, number>> {
  const config = readApiConfig({
    DATABASE_URL: url,
    ADMIN_TOKEN,
    SECRETS_KEY,
    LOG_LEVEL: 'error',
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    QUEUE_PREFIX: `scw-growth-${Date.now()}`,
  });
  const app: INestApplication = await createApiApp(config);
  await app.init();
  try {
    const deliveries = app.get(WebhookDeliveriesService);
    const calls = app.get(ScheduledCallsService);
    const subscriptions = app.get(WebhookSubscriptionsService);
    const pg = new Client({ connectionString: url });
    await pg.connect();
    // Values that exist in the seeded database (a booking and an event 20 days back), made up otherwise.
    const twentyDaysBack = new Date(Date.now() - 20 * DAY);
    const window = { from: twentyDaysBack.toISOString(), to: new Date(twentyDaysBack.getTime() + DAY).toISOString() };
    const sample = (
      await pg.query(`SELECT scheduled_call_id, event_id FROM webhook_deliveries WHERE subscription_id = $1 AND event_at >= $2 AND event_at < $3 LIMIT 1`, [
        busy.subscriptionId,
        window.from,
        window.to,
      ])
    ).rows[0] ?? { scheduled_call_id: '00000000-0000-7000-8000-000000000000', event_id: '00000000-0000-7000-8000-000000000001' };
    // The oldest delivery there is (seeded, or made by the hot-statement pass on the empty database).
    const delivery: { id: string; app_id: string } = (await pg.query(`SELECT id, app_id FROM webhook_deliveries ORDER BY event_at LIMIT 1`)).rows[0];
    await pg.end();
    const page = (query: Record<string, unknown>) => () => deliveries.listForSubscription(busy.appId, busy.subscriptionId, query);
    const callPage = (query: Record<string, unknown>) => () => calls.list(busy.appId, query);
    const runs = 30;
    const figures: Record<string, number> = {
      list_deliveries_ms: await timed(runs, page({})),
      list_deliveries_status_failed_none_ms: await timed(runs, page({ status: 'failed' })),
      list_deliveries_status_succeeded_ms: await timed(runs, page({ status: 'succeeded' })),
      list_deliveries_event_no_show_none_ms: await timed(runs, page({ event: 'scheduled.no_show' })),
      list_deliveries_event_cancelled_ms: await timed(runs, page({ event: 'scheduled.cancelled' })),
      list_deliveries_window_20d_ms: await timed(runs, page(window)),
      list_deliveries_booking_ms: await timed(runs, page({ scheduled_call_id: sample.scheduled_call_id })),
      list_deliveries_event_id_ms: await timed(runs, page({ event_id: sample.event_id })),
      list_calls_ms: await timed(runs, callPage({})),
      list_calls_status_no_show_none_ms: await timed(runs, callPage({ status: 'no_show' })),
      list_calls_status_two_ms: await timed(runs, callPage({ status: 'scheduled,confirmed' })),
      list_calls_window_20d_ms: await timed(runs, callPage(window)),
      get_subscription_ms: await timed(runs, () => subscriptions.get(busy.appId, busy.subscriptionId)),
      get_delivery_ms: await timed(runs, () => deliveries.get(delivery.app_id, delivery.id)),
    };
    void tenant;
    for (const key of Object.keys(figures)) figures[key] = round(figures[key], 3);
    return figures;
  } finally {
    await app.close();
  }
}

async function main(): Promise<void> {
  const instance = await startInstance();
  try {
    const today = Math.floor(Date.now() / DAY) * DAY;
    const urls = { empty: instance.url('growth_empty'), seeded: instance.url('growth_seeded') };
    // The empty database is made anew each run (a kept instance would have last run's bench rows in it).
    const admin = new Client({ connectionString: instance.url('postgres') });
    await admin.connect();
    await admin.query('DROP DATABASE IF EXISTS growth_empty WITH (FORCE)');
    await admin.end();
    for (const url of Object.values(urls)) {
      await ensureDatabase(url);
      await migrateDatabase(url);
    }
    const tenants = { empty: await createTenants(urls.empty), seeded: await createTenants(urls.seeded) };
    progress(`seeding ${EVENTS} events over ${DAYS} days (${APPS} apps, one subscription each)`);
    const seedStart = performance.now();
    await seed(urls.seeded, today);
    progress(`seeded in ${Math.round((performance.now() - seedStart) / 1000)} s`);
    const sizes = await bytesPerEvent(urls.seeded);
    progress(`history on disk: ${sizes.bytes_per_event} bytes per event (${sizes.events} events, ${sizes.deliveries} deliveries, ${sizes.attempts} attempts)`);

    const figures: Record<'empty' | 'seeded', Record<string, number>> = { empty: {}, seeded: {} };
    // Millisecond statements drift with whatever else the machine does: the two databases take turns
    // (empty first in even rounds, seeded first in odd ones) and each figure is the median of its rounds.
    const rounds: Record<'empty' | 'seeded', Array<Record<string, number>>> = { empty: [], seeded: [] };
    for (let round = 0; round < STATEMENT_ROUNDS; round++) {
      for (const which of round % 2 === 0 ? (['empty', 'seeded'] as const) : (['seeded', 'empty'] as const)) {
        // The busy tenant: the last app (no failed deliveries in the seed, so status=failed matches nothing).
        const busy = tenants[which][APPS - 1];
        progress(`${which}: hot statements and list pages, round ${round + 1}/${STATEMENT_ROUNDS}`);
        rounds[which].push({ ...(await hotStatements(urls[which], tenants[which][0])), ...(await listPages(urls[which], tenants[which][0], busy)) });
      }
    }
    for (const which of ['empty', 'seeded'] as const) {
      for (const key of Object.keys(rounds[which][0])) {
        figures[which][key] = round(
          percentile(
            rounds[which].map((r) => r[key]).sort((a, b) => a - b),
            50,
          ),
          3,
        );
      }
    }
    for (const which of ['empty', 'seeded'] as const) {
      progress(`${which}: bench:delivery (burst and steady)`);
      const delivery = await runDeliveryBench({ databaseUrl: urls[which] });
      Object.assign(figures[which], { burst_per_s: delivery.deliveries_per_s, steady_p99_ms: delivery.p99_ms, steady_p50_ms: delivery.p50_ms });
    }
    const line: Record<string, unknown> = {};
    let worst = 0;
    for (const key of Object.keys(figures.seeded)) {
      const seeded = figures.seeded[key];
      const empty = figures.empty[key];
      line[key] = seeded;
      line[`empty_${key}`] = empty;
      // Throughput: a ratio above 1 is worse when it is empty / seeded.
      const ratio = key.endsWith('_per_s') ? empty / seeded : seeded / empty;
      line[`${key}_ratio`] = round(ratio, 2);
      worst = Math.max(worst, ratio);
    }
    line.worst_ratio = round(worst, 2);
    Object.assign(line, sizes);
    console.log(JSON.stringify(line));
  } finally {
    instance.stop();
  }
}

main().catch((error: Error) => {
  console.error(`bench:growth failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
