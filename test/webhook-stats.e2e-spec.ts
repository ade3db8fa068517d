import { randomUUID } from 'node:crypto';
import { WebhookStatsService } from '../apps/api/src/webhooks/webhook-stats.service';
import { createBooking, createSubscription, createVideoApp, startTestApi, TestApi, TestVideoApp } from './support/test-api';
import { TestReceiver } from './support/test-receiver';
import { startTestWorker, TestWorker } from './support/test-worker';
import { waitFor } from './support/wait-for';

const MINUTE = 60_000;

/** `GET …/webhook-subscriptions/{id}/stats?window=`: attempts by start time, in aligned buckets. */
describe('Subscription stats', () => {
  let api: TestApi;
  let worker: TestWorker;
  let app: TestVideoApp;
  let receiver: TestReceiver;

  beforeAll(async () => {
    api = await startTestApi({ WEBHOOK_RETRY_SCHEDULE: '0s,100ms', WEBHOOK_TIMEOUT_MS: '2000' });
    worker = await startTestWorker(api);
    app = await createVideoApp(api, { name: 'Charts' });
    receiver = await new TestReceiver().start();
  });
  afterAll(async () => {
    await worker.close();
    await receiver.stop();
    await api.close();
  });

  const subscribe = async (url = receiver.url) => (await createSubscription(api, app, url)).id;
  const stats = async (subId: string, query: Record<string, string> = {}, tenant = app) =>
    (await api.http.get(`/v1/apps/${tenant.id}/webhook-subscriptions/${subId}/stats`).query(query).set(tenant.auth).expect(200)).body;

  /** A delivery of an event at `eventAt` with attempts [started at, status, duration ms, trigger]. */
  async function seed(subId: string, eventAt: Date, attempts: Array<[Date, number | null, number, string?]>): Promise<void> {
    const [{ id }] = await api.db.query(
      `INSERT INTO webhook_deliveries (id, event_at, app_id, subscription_id, event_id, scheduled_call_id, event, status, attempt_count, next_trigger, created_at, updated_at)
       VALUES (uuid_v7_at($1), $1, $2, $3, $4, NULL, 'scheduled.created', 'failed', $5, $6, $1, $1) RETURNING id`,
      [eventAt, app.id, subId, randomUUID(), attempts.length, attempts[0]?.[3] === 'test' ? 'test' : 'automatic'],
    );
    for (const [i, [startedAt, status, durationMs, trigger]] of attempts.entries()) {
      await api.db.query(
        `INSERT INTO webhook_attempts (delivery_id, event_at, attempt, trigger, started_at, duration_ms, response_status, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          id,
          eventAt,
          i + 1,
          trigger ?? 'automatic',
          startedAt,
          durationMs,
          status,
          status === null ? 'timeout after 2000 ms' : status >= 300 ? `HTTP ${status}` : null,
        ],
      );
    }
  }

  it('counts real attempts in the bucket of their start, without test sends', async () => {
    api.clock.set(new Date());
    const subId = await subscribe();
    let calls = 0;
    receiver.responder = (_, res) => void res.writeHead(++calls === 1 ? 500 : 200).end();
    await createBooking(api, app);
    await waitFor('two attempts', () => receiver.requests.length === 2);
    const test = (await api.http.post(`/v1/apps/${app.id}/webhook-subscriptions/${subId}/test`).set(app.auth).send({}).expect(202)).body;
    await waitFor(
      'the test send',
      async () => (await api.http.get(`/v1/apps/${app.id}/webhook-deliveries/${test.id}`).set(app.auth)).body.status === 'succeeded',
    );
    await waitFor(
      'the second attempt logged',
      async () => (await api.db.query(`SELECT count(*)::int AS n FROM webhook_attempts WHERE trigger = 'automatic'`))[0].n === 2,
    );
    api.clock.set(new Date());
    const body = await stats(subId, { window: '1h' });
    expect(body).toMatchObject({ window: '1h', bucket_seconds: 300 });
    expect(body.buckets).toHaveLength(12);
    expect(body.totals).toMatchObject({
      attempts: 2,
      succeeded: 1,
      failed: 1,
      success_rate: 0.5,
      latency_p50_ms: expect.any(Number),
      latency_p95_ms: expect.any(Number),
    });
    expect(body.buckets.reduce((sum: number, b: { attempts: number }) => sum + b.attempts, 0)).toBe(2);
    expect(await stats(subId)).toMatchObject({ window: '24h', bucket_seconds: 3_600, totals: { attempts: 2 } });
  });

  it('answers every bucket of each window, aligned and oldest first, with exact counts, rates and latency percentiles', async () => {
    const subId = await subscribe('http://127.0.0.1:9/unused');
    const otherSub = await subscribe('http://127.0.0.1:9/unused');
    // Now is 2 min 30 s into a 5-minute bucket (the 1h window's last).
    const now = Math.floor(Date.now() / (5 * MINUTE)) * 5 * MINUTE + 2.5 * MINUTE;
    api.clock.set(new Date(now));
    const at = (offsetMs: number) => new Date(now + offsetMs);
    await seed(subId, at(-MINUTE), [
      [at(-50_000), 500, 30],
      [at(-40_000), 200, 10],
      [at(-30_000), 200, 20],
    ]);
    await seed(subId, at(-11 * MINUTE), [[at(-10 * MINUTE), null, 2000]]); // a timeout, two buckets back
    await seed(subId, at(-3 * 60 * MINUTE), [[at(-2 * 60 * MINUTE), 201, 40]]); // in 24h, not in 1h
    await seed(subId, at(-MINUTE), [[at(-20_000), 200, 5, 'test']]); // a test send
    await seed(otherSub, at(-MINUTE), [[at(-20_000), 200, 5]]); // another subscription
    // A retry of an event older than the retry span (about 1 h here): left out of 1h and 24h (documented), in 7d.
    await seed(subId, at(-3 * 24 * 60 * MINUTE), [[at(-20_000), 200, 7]]);

    const hour = await stats(subId, { window: '1h' });
    const bucket = 5 * MINUTE;
    const last = Math.floor(now / bucket) * bucket;
    expect(hour).toMatchObject({
      window: '1h',
      bucket_seconds: 300,
      from: new Date(last - 11 * bucket).toISOString(),
      to: new Date(last + bucket).toISOString(),
    });
    expect(hour.buckets.map((b: { start: string }) => b.start)).toEqual(Array.from({ length: 12 }, (_, i) => new Date(last - (11 - i) * bucket).toISOString()));
    expect(hour.buckets[11]).toEqual({
      start: new Date(last).toISOString(),
      attempts: 3,
      succeeded: 2,
      failed: 1,
      success_rate: 2 / 3,
      latency_p50_ms: 20,
      latency_p95_ms: 30,
    });
    expect(hour.buckets[9]).toMatchObject({ attempts: 1, succeeded: 0, failed: 1, success_rate: 0, latency_p50_ms: null, latency_p95_ms: null });
    expect(hour.buckets[0]).toEqual({ start: hour.from, attempts: 0, succeeded: 0, failed: 0, success_rate: null, latency_p50_ms: null, latency_p95_ms: null });
    expect(hour.totals).toEqual({ attempts: 4, succeeded: 2, failed: 2, success_rate: 0.5, latency_p50_ms: 20, latency_p95_ms: 30 });

    const day = await stats(subId, { window: '24h' });
    expect(day.buckets).toHaveLength(24);
    expect(new Date(day.to).getTime() % 3_600_000).toBe(0);
    expect(new Date(day.to).getTime() - new Date(day.from).getTime()).toBe(24 * 3_600_000);
    expect(day.totals).toMatchObject({ attempts: 5, succeeded: 3, failed: 2, latency_p95_ms: 40 });

    const week = await stats(subId, { window: '7d' });
    expect(week).toMatchObject({ bucket_seconds: 21_600, totals: { attempts: 6, succeeded: 4 } });
    expect(week.buckets).toHaveLength(28);
    expect(new Date(week.from).getTime() % 21_600_000).toBe(0);
    expect(week.buckets.filter((b: { attempts: number }) => b.attempts > 0).length).toBeGreaterThanOrEqual(1);

    expect((await stats(otherSub, { window: '7d' })).totals).toMatchObject({ attempts: 1, succeeded: 1 });
  });

  it('scans only the weeks an attempt in the window can belong to', async () => {
    const subId = await subscribe('http://127.0.0.1:9/unused');
    api.clock.set(new Date());
    await api.db.query(`SELECT history_create_partitions((now() - make_interval(days => 7 * w))::date) FROM generate_series(1, 4) AS w`);
    const { sql, params } = api.app.get(WebhookStatsService).statement(app.id, subId, '1h');
    const plan = (await api.db.query(`EXPLAIN ${sql}`, params)).map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
    const weeks: string[] = (
      await api.db.query(`SELECT to_char(date_trunc('week', now() - make_interval(days => 7 * w)), 'YYYYMMDD') AS d FROM generate_series(2, 4) AS w`)
    ).map((row: { d: string }) => row.d);
    for (const week of weeks) {
      expect(plan).not.toContain(`webhook_deliveries_p${week}`);
      expect(plan).not.toContain(`webhook_attempts_p${week}`);
    }
    expect(plan).toMatch(/webhook_deliveries_p\d{8}/);
  });

  it("refuses an unknown window or query key with 400, and another app's subscription with 404", async () => {
    const subId = await subscribe();
    for (const query of [{ window: '2h' }, { window: '' }, { window: '24H' }, { since: '1h' }]) {
      const response = await api.http.get(`/v1/apps/${app.id}/webhook-subscriptions/${subId}/stats`).query(query).set(app.auth).expect(400);
      expect(response.body.code).toBe('invalid_query');
    }
    const other = await createVideoApp(api, { name: 'Nosy' });
    await api.http.get(`/v1/apps/${app.id}/webhook-subscriptions/${subId}/stats`).set(other.auth).expect(404);
    await api.http.get(`/v1/apps/${other.id}/webhook-subscriptions/${subId}/stats`).set(other.auth).expect(404);
  });
});
