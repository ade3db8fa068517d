import { DeliveryScheduler } from '../libs/shared/src/webhooks/delivery-scheduler';
import { applyHealthEvents } from '../libs/shared/src/webhooks/subscription-health.repository';
import { readWorkerConfig } from '../apps/worker/src/config/worker-config';
import { DeliverySweeper } from '../apps/worker/src/delivery/delivery-sweeper';
import { DeliverySweepRepository } from '../apps/worker/src/delivery/delivery-sweep.repository';
import { WorkerMetrics } from '../apps/worker/src/delivery/worker-metrics';
import { commitEvents } from './support/sql-events';
import { createVideoApp, operator, startTestApi, TestApi, TestVideoApp } from './support/test-api';
import { TestReceiver } from './support/test-receiver';
import { startTestWorker, TestWorker } from './support/test-worker';
import { waitFor } from './support/wait-for';

/** SPEC §3 isolation: fair shares, rate limits, the circuit breaker, poison deliveries, backlogs. */
jest.setTimeout(120_000);

describe('Delivery isolation between subscriptions', () => {
  let api: TestApi;
  const receivers: TestReceiver[] = [];
  const workers: TestWorker[] = [];

  beforeAll(async () => {
    api = await startTestApi({ WEBHOOK_TIMEOUT_MS: '3000' });
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    await Promise.all(receivers.splice(0).map((r) => r.stop()));
  });
  afterAll(async () => {
    await api.close();
  });

  async function receiver(): Promise<TestReceiver> {
    const r = await new TestReceiver().start();
    receivers.push(r);
    return r;
  }

  async function worker(env: Record<string, string> = {}): Promise<TestWorker> {
    const w = await startTestWorker(api, env);
    workers.push(w);
    return w;
  }

  async function subscribe(app: TestVideoApp, url: string, extra: Record<string, unknown> = {}): Promise<string> {
    const response = await api.http
      .post(`/v1/apps/${app.id}/webhook-subscriptions`)
      .set(app.auth)
      .send({ url, events: ['*'], ...extra })
      .expect(201);
    return response.body.id;
  }

  const subscription = async (app: TestVideoApp, id: string) =>
    (await api.http.get(`/v1/apps/${app.id}/webhook-subscriptions/${id}`).set(app.auth).expect(200)).body;

  const statusCounts = async (subscriptionId: string): Promise<Record<string, number>> =>
    Object.fromEntries(
      (await api.db.query(`SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE subscription_id = $1 GROUP BY status`, [subscriptionId])).map(
        (row: { status: string; n: number }) => [row.status, row.n],
      ),
    );

  it('delivers to a healthy subscription at once while another one hangs with a backlog, across two workers', async () => {
    const healthy = await receiver();
    const hanging = await receiver();
    hanging.responder = () => undefined; // never answers: every attempt waits out WEBHOOK_TIMEOUT_MS
    const healthyApp = await createVideoApp(api, { name: 'Healthy' });
    const noisyApp = await createVideoApp(api, { name: 'Noisy' });
    await subscribe(healthyApp, healthy.url);
    await subscribe(noisyApp, hanging.url);
    await Promise.all([worker({ WORKER_CONCURRENCY: '10' }), worker({ WORKER_CONCURRENCY: '10' })]);

    await commitEvents(api.db, noisyApp.id, 300);
    // 20 slots in all, 1 kept in reserve: the hanging subscription holds 19 and waits there.
    await waitFor('the hanging endpoint to hold its share of both workers', () => hanging.requests.length >= 19, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 300)); // a share overrun would show itself here
    expect(hanging.requests).toHaveLength(19);

    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const before = healthy.requests.length;
      const committed = Date.now();
      await commitEvents(api.db, healthyApp.id, 1);
      await waitFor('the healthy delivery', () => healthy.requests.length > before, 5_000, 2);
      latencies.push(healthy.requests[before].receivedAt - committed);
    }
    // Without isolation every slot would be waiting on the hanging endpoint: 3 s each.
    expect(Math.max(...latencies)).toBeLessThan(1_000);
  });

  it('takes rate_limit_per_second on create and PATCH (null clears it), refuses bad values with 422, and shows health', async () => {
    const app = await createVideoApp(api, { name: 'Settings' });
    const base = `/v1/apps/${app.id}/webhook-subscriptions`;
    for (const bad of [0, -1, 1.5, '10', 100_001, true]) {
      const response = await api.http
        .post(base)
        .set(app.auth)
        .send({ url: 'http://127.0.0.1:9/x', events: ['*'], rate_limit_per_second: bad })
        .expect(422);
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain('rate_limit_per_second');
    }
    expect((await api.db.query(`SELECT count(*)::int AS n FROM webhook_subscriptions WHERE app_id = $1`, [app.id]))[0].n).toBe(0);
    const created = (
      await api.http
        .post(base)
        .set(app.auth)
        .send({ url: 'http://127.0.0.1:9/x', events: ['*'], rate_limit_per_second: 5 })
        .expect(201)
    ).body;
    expect(created).toMatchObject({
      rate_limit_per_second: 5,
      health: { consecutive_failures: 0, failing_since: null, auto_pause_at: null, circuit: 'closed', circuit_retry_at: null, held_count: 0 },
    });
    const patched = (await api.http.patch(`${base}/${created.id}`).set(app.auth).send({ rate_limit_per_second: 50 }).expect(200)).body;
    expect(patched.rate_limit_per_second).toBe(50);
    await api.http.patch(`${base}/${created.id}`).set(app.auth).send({ rate_limit_per_second: 0 }).expect(422);
    const cleared = (await api.http.patch(`${base}/${created.id}`).set(app.auth).send({ rate_limit_per_second: null }).expect(200)).body;
    expect(cleared.rate_limit_per_second).toBeNull();
    const listed = (await api.http.get(base).set(app.auth).expect(200)).body.data[0];
    expect(listed.health).toEqual(created.health);
    expect(listed).not.toHaveProperty('secret');
  });

  it('keeps a rate-limited subscription under its limit (+10%) and near it across two workers, without failing or counting the waits', async () => {
    const limited = await receiver();
    const app = await createVideoApp(api, { name: 'Limited' });
    const subId = await subscribe(app, limited.url, { rate_limit_per_second: 20 });
    expect((await subscription(app, subId)).rate_limit_per_second).toBe(20);
    await Promise.all([worker(), worker()]);

    await commitEvents(api.db, app.id, 60);
    await waitFor('all 60 deliveries', () => limited.requests.length >= 60, 30_000);
    const times = limited.requests.map((r) => r.receivedAt).sort((a, b) => a - b);
    const rate = (times.length - 1) / ((times[times.length - 1] - times[0]) / 1000);
    // The limit is the upper bound: never more than 10% over it. The lower bound only says the lane is
    // not starved: stalls of this shared 2-core machine lower the measured rate (17.9/s in one CI run,
    // 14.9/s beside a running CI), so it allows half.
    expect(rate).toBeGreaterThan(10);
    expect(rate).toBeLessThan(22);
    await waitFor('every delivery recorded', async () => (await statusCounts(subId)).succeeded === 60);
    const [{ attempts }] = await api.db.query(
      `SELECT count(*)::int AS attempts FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.subscription_id = $1`,
      [subId],
    );
    expect(attempts).toBe(60);
  });

  it('opens the circuit after timeouts in a row, attempts nothing during the cool-down, then probes and closes', async () => {
    const flaky = await receiver();
    flaky.responder = () => undefined;
    const app = await createVideoApp(api, { name: 'Flaky' });
    const subId = await subscribe(app, flaky.url);
    await worker({
      WEBHOOK_TIMEOUT_MS: '300',
      WEBHOOK_CIRCUIT_FAILURES: '3',
      WEBHOOK_CIRCUIT_COOLDOWN: '1500ms',
      WORKER_CONCURRENCY: '3',
      WEBHOOK_RETRY_SCHEDULE: Array(10).fill('100ms').join(','),
    });

    await commitEvents(api.db, app.id, 10);
    const open = await waitFor(
      'the circuit to open',
      async () => {
        const sub = await subscription(app, subId);
        return sub.health.circuit === 'open' && sub;
      },
      10_000,
    );
    const openedSeen = Date.now();
    expect(open.health.circuit_retry_at).not.toBeNull();
    expect(open.health.consecutive_failures).toBeGreaterThanOrEqual(3);
    // Waiting on the circuit is not an attempt: some deliveries have not been tried at all.
    expect(
      (
        await api.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE subscription_id = $1 AND attempt_count = 0 AND status = 'pending'`, [subId])
      )[0].n,
    ).toBeGreaterThan(0);

    const metrics = (await api.http.get('/metrics').set(operator).expect(200)).text;
    expect(Number(/^webhook_circuits\{state="open"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);

    flaky.answer(200);
    await waitFor('every delivery after the probe closed the circuit', async () => (await statusCounts(subId)).succeeded === 10, 20_000);
    const retryAt = new Date(open.health.circuit_retry_at).getTime();
    const duringCooldown = flaky.requests.filter((r) => r.receivedAt > openedSeen && r.receivedAt < retryAt - 50);
    expect(duringCooldown).toHaveLength(0);
    const closed = await subscription(app, subId);
    expect(closed.health).toMatchObject({ circuit: 'closed', circuit_retry_at: null, consecutive_failures: 0 });
    expect(closed.status).toBe('active');
  });

  it('records a delivery whose secret cannot be decrypted as failed attempts with the error, then ends it failed', async () => {
    const target = await receiver();
    const app = await createVideoApp(api, { name: 'Poison' });
    const subId = await subscribe(app, target.url);
    await api.db.query(`UPDATE webhook_subscriptions SET secret_ciphertext = decode('01' || repeat('00', 60), 'hex') WHERE id = $1`, [subId]);
    const w = await worker({ WEBHOOK_RETRY_SCHEDULE: '0s,100ms,100ms' });

    await commitEvents(api.db, app.id, 1);
    await waitFor('the delivery to end failed', async () => (await statusCounts(subId)).failed === 1, 20_000);
    const [delivery] = await api.db.query(`SELECT id, attempt_count FROM webhook_deliveries WHERE subscription_id = $1`, [subId]);
    expect(delivery.attempt_count).toBe(3);
    const detail = (await api.http.get(`/v1/apps/${app.id}/webhook-deliveries/${delivery.id}`).set(app.auth).expect(200)).body;
    expect(detail.attempts.map((a: { attempt: number }) => a.attempt)).toEqual([1, 2, 3]);
    for (const attempt of detail.attempts) expect(attempt.error).toMatch(/secret cannot be decrypted/);
    expect(target.requests).toHaveLength(0);
    const errors = await w.app.get(WorkerMetrics).errors.get();
    expect(errors.values.find((v) => v.labels.stage === 'attempt')?.value).toBe(3);
  });

  it('lets the fan-out create deliveries for a subscription whose health is being recorded (no lock wait, so no deadlock)', async () => {
    const app = await createVideoApp(api);
    const sub = (
      await api.http
        .post(`/v1/apps/${app.id}/webhook-subscriptions`)
        .set(app.auth)
        .send({ url: 'http://127.0.0.1:9/x', events: ['*'] })
        .expect(201)
    ).body;
    const recorder = api.db.createQueryRunner();
    await recorder.connect();
    await recorder.startTransaction();
    try {
      // A batch of failures holds the subscription's row lock while it applies them...
      await applyHealthEvents(recorder.manager, sub.id, [{ event: { type: 'failed', kind: 'http' }, at: new Date() }], readWorkerConfig({}).webhooks);
      // ...and a delivery for that subscription (its foreign key takes KEY SHARE) is inserted meanwhile.
      await api.db.transaction(async (manager) => {
        await manager.query(`SET LOCAL lock_timeout = '500ms'`);
        await manager.query(
          `INSERT INTO webhook_deliveries (id, event_at, app_id, subscription_id, event_id, scheduled_call_id, event, status, created_at, updated_at)
          VALUES (uuid_v7_at(now()), date_trunc('milliseconds', now()), $1, $2, gen_random_uuid(), gen_random_uuid(), 'scheduled.created', 'failed', now(), now())`,
          [app.id, sub.id],
        );
      });
    } finally {
      await recorder.rollbackTransaction();
      await recorder.release();
    }
  });

  it('sweeps a 5,000-row backlog with the same few statements every pass, offering each row once', async () => {
    const slow = await receiver();
    const app = await createVideoApp(api, { name: 'Backlog' });
    // One delivery a second, so the backlog stays due while the sweeps run.
    const subId = await subscribe(app, slow.url, { rate_limit_per_second: 1 });
    const w = await worker({ WEBHOOK_SWEEP_INTERVAL: '1h', WEBHOOK_SWEEP_GRACE: '1s' });
    const sweeper = w.app.get(DeliverySweeper);
    await sweeper.idle();
    // Events already fanned out (taken off outbox_pending in the same transaction) with due deliveries.
    await api.db.transaction(async (manager) => {
      await manager.query(
        `WITH calls AS (
           INSERT INTO scheduled_calls (id, app_id, status, scheduled_at, ends_at, duration_minutes, timezone, guest, requires_confirmation, metadata, version, reschedule_count, created_at, updated_at)
           SELECT gen_random_uuid(), $1, 'scheduled', now() + interval '1 day', now() + interval '1 day', 30, 'UTC', '{}'::jsonb, false, '{}'::jsonb, 1, 0, now(), now()
             FROM generate_series(1, 5000) RETURNING id
         ), events AS (
           INSERT INTO outbox_events (id, app_id, scheduled_call_id, type, payload, occurred_at)
           SELECT gen_random_uuid(), $1, id, 'scheduled.created', '{}'::json, now() FROM calls RETURNING id, scheduled_call_id, occurred_at
         )
         INSERT INTO webhook_deliveries (id, event_at, app_id, subscription_id, event_id, scheduled_call_id, event, status, attempt_count, next_attempt_at, created_at, updated_at)
         SELECT uuid_v7_at(occurred_at), date_trunc('milliseconds', occurred_at), $1, $2, id, scheduled_call_id, 'scheduled.created', 'pending', 0,
                now() - interval '1 minute', now(), now() FROM events`,
        [app.id, subId],
      );
      await manager.query(`DELETE FROM outbox_pending WHERE app_id = $1`, [app.id]);
    });

    const db = w.app.get<DeliverySweepRepository, { db: { query: (...args: unknown[]) => Promise<unknown> } }>(DeliverySweepRepository).db;
    const scheduler = w.app.get(DeliveryScheduler);
    const spy = jest.spyOn(db, 'query');
    const offer = jest.spyOn(scheduler, 'offer');
    const pass = async () => {
      spy.mockClear();
      offer.mockClear();
      await sweeper.sweep();
      const ids = offer.mock.calls.flatMap(([offers]) => offers.map((o) => o.deliveryId));
      const added = (await Promise.all(offer.mock.results.map((r) => r.value as Promise<number>))).reduce((a, b) => a + b, 0);
      return {
        statements: spy.mock.calls.length,
        pages: spy.mock.calls.filter(([sql]) => String(sql).includes('FROM webhook_deliveries d JOIN webhook_subscriptions s')).length,
        rows: ids.length,
        distinct: new Set(ids).size,
        added,
      };
    };
    const passes = [await pass(), await pass(), await pass()];
    spy.mockRestore();
    offer.mockRestore();

    for (const p of passes) {
      expect(p.rows).toBeGreaterThan(4_990); // a few leave at one a second
      expect(p.distinct).toBe(p.rows); // each row offered once per pass
      expect(p.pages).toBeLessThanOrEqual(Math.ceil(p.rows / 1_000) + 1); // pages of 1,000, never the same page again
    }
    expect(passes[0].added).toBe(passes[0].rows);
    expect(passes[1].added + passes[2].added).toBe(0); // already waiting: nothing re-queued
    expect(passes[2].statements).toBe(passes[1].statements); // the cost of a pass does not grow with the passes
    expect((await scheduler.stats()).waiting).toBeGreaterThan(4_990);
  });
});
