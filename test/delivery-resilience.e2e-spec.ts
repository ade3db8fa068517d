import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { createVideoApp, startTestApi, TestApi, TestVideoApp } from './support/test-api';
import { TestReceiver } from './support/test-receiver';
import { commitEvents } from './support/sql-events';
import { startTestWorker } from './support/test-worker';
import { waitFor } from './support/wait-for';
import { WorkerProcess } from './support/worker-process';

/** Crash-safety: PostgreSQL is the truth, so no committed event is lost whatever dies. */
jest.setTimeout(120_000);

describe('Delivery resilience', () => {
  let api: TestApi;
  let app: TestVideoApp;
  let receiver: TestReceiver;
  const processes: WorkerProcess[] = [];

  beforeAll(async () => {
    // A Redis database of its own, so FLUSHDB touches nothing but this file's queue.
    api = await startTestApi({ REDIS_URL: 'redis://127.0.0.1:6379/9', WEBHOOK_RETRY_SCHEDULE: '0s,100ms,100ms,100ms,100ms', WEBHOOK_TIMEOUT_MS: '2000' });
    app = await createVideoApp(api);
    receiver = await new TestReceiver().start();
    await api.http
      .post(`/v1/apps/${app.id}/webhook-subscriptions`)
      .set(app.auth)
      .send({ url: receiver.url, events: ['*'] })
      .expect(201);
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    await receiver.stop();
    await api.close();
  });

  function slowReceiver(ms: number): void {
    receiver.responder = (_, res) => void setTimeout(() => res.writeHead(200).end('ok'), ms);
  }

  async function createBookings(n: number): Promise<void> {
    const start = api.clock.now().getTime() + 3_600_000;
    for (let i = 0; i < n; i++) {
      await api.http
        .post(`/v1/apps/${app.id}/scheduled-calls`)
        .set(app.auth)
        .send({ scheduled_at: new Date(start + i * 60_000).toISOString(), duration_minutes: 15, guest: { name: `G${i}`, email: `g${i}@example.com` } })
        .expect(201);
    }
  }

  const lastSeq = async (): Promise<string> => (await api.db.query(`SELECT coalesce(max(seq), 0)::text AS seq FROM outbox_events`))[0].seq;

  /** Events written after `afterSeq` that the receiver has not seen. */
  async function undelivered(afterSeq: string): Promise<string[]> {
    const events: Array<{ id: string }> = await api.db.query(`SELECT id FROM outbox_events WHERE app_id = $1 AND seq > $2`, [app.id, afterSeq]);
    const received = new Set(receiver.requests.map((r) => r.json?.id));
    return events.map((e) => e.id).filter((id) => !received.has(id));
  }

  const allSucceeded = async () =>
    (await api.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE app_id = $1 AND status <> 'succeeded'`, [app.id]))[0].n === 0;

  it('loses nothing when a worker is killed with SIGKILL mid-run', async () => {
    slowReceiver(150);
    const first = new WorkerProcess({ ...api.env, WORKER_CONCURRENCY: '5' });
    processes.push(first);
    await waitFor('the first worker to start', () => first.started, 30_000);
    const from = await lastSeq();
    await createBookings(30);
    await waitFor('some deliveries to be in flight', () => receiver.requests.length >= 5, 20_000);
    await first.kill('SIGKILL');
    const second = new WorkerProcess({ ...api.env, WORKER_CONCURRENCY: '5' });
    processes.push(second);
    await waitFor('every event to reach the receiver', async () => (await undelivered(from)).length === 0, 60_000);
    await waitFor('every delivery to be recorded as succeeded', allSucceeded, 30_000);
    await second.kill('SIGTERM');
  });

  it('logs the attempt a killed worker never recorded, so attempt numbers never repeat', async () => {
    receiver.requests.length = 0;
    let answered = false;
    // The first request is never answered: the worker is killed while it waits.
    receiver.responder = (_, res) => void (answered ? res.writeHead(200).end('ok') : (answered = true));
    const doomed = new WorkerProcess({ ...api.env, WORKER_CONCURRENCY: '2' });
    processes.push(doomed);
    await waitFor('the worker to start', () => doomed.started, 30_000);
    const from = await lastSeq();
    await createBookings(1);
    await waitFor('the first attempt to reach the receiver', () => receiver.requests.length >= 1, 20_000);
    await doomed.kill('SIGKILL');

    const takeover = await startTestWorker(api);
    try {
      const [event] = await api.db.query(`SELECT id FROM outbox_events WHERE app_id = $1 AND seq > $2`, [app.id, from]);
      const delivery = await waitFor(
        'the delivery to succeed after the lease ran out',
        async () => {
          const [row] = await api.db.query(`SELECT id, status FROM webhook_deliveries WHERE event_id = $1`, [event.id]);
          return row?.status === 'succeeded' && row;
        },
        30_000,
      );
      const detail = (await api.http.get(`/v1/apps/${app.id}/webhook-deliveries/${delivery.id}`).set(app.auth).expect(200)).body;
      expect(detail.attempt_count).toBe(2);
      expect(detail.attempts).toMatchObject([
        { attempt: 1, response_status: null, error: expect.stringMatching(/attempt interrupted/) },
        { attempt: 2, response_status: 200, error: null },
      ]);
      expect(receiver.forEvent(event.id).map((r) => r.json.attempt)).toEqual([1, 2]);
    } finally {
      await takeover.close();
    }
  });

  it('re-queues everything due from PostgreSQL after a Redis FLUSHDB', async () => {
    receiver.requests.length = 0;
    slowReceiver(100);
    const worker = await startTestWorker(api, { WORKER_CONCURRENCY: '3' });
    const redis = new Redis('redis://127.0.0.1:6379/9');
    try {
      const from = await lastSeq();
      await createBookings(30);
      await waitFor('a few deliveries', () => receiver.requests.length >= 3, 20_000);
      await redis.flushdb();
      await waitFor('every event to reach the receiver', async () => (await undelivered(from)).length === 0, 60_000);
      await waitFor('every delivery to be recorded as succeeded', allSucceeded, 30_000);
    } finally {
      redis.disconnect();
      await worker.close();
    }
  });

  it('relays events committed and announced outside the API at once, also after its listening connection was cut', async () => {
    receiver.requests.length = 0;
    receiver.answer(200);
    // No sweep after the first one at boot: only the LISTEN wake-up can relay these events.
    const worker = await startTestWorker(api, { WEBHOOK_SWEEP_INTERVAL: '1h' });
    const listener = async (): Promise<number | undefined> =>
      (
        await api.db.query(
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'scheduled-calls-worker-listen' AND query ILIKE 'LISTEN%'`,
        )
      )[0]?.pid;
    const commitEventBySql = async (): Promise<string> => {
      const at = new Date(api.clock.now().getTime() + 86_400_000).toISOString();
      const [{ id }] = await api.db.query(
        `WITH call AS (
           INSERT INTO scheduled_calls (id, app_id, status, scheduled_at, ends_at, duration_minutes, timezone, guest, requires_confirmation, metadata, version, reschedule_count, created_at, updated_at)
           VALUES (gen_random_uuid(), $1, 'scheduled', $2, $2, 30, 'UTC', '{}'::jsonb, false, '{}'::jsonb, 1, 0, now(), now()) RETURNING id
         )
         INSERT INTO outbox_events (id, app_id, scheduled_call_id, type, payload, occurred_at)
         SELECT gen_random_uuid(), $1, call.id, 'scheduled.created', json_build_object('scheduled_call', json_build_object('id', call.id)), now() FROM call
         RETURNING id`,
        [app.id, at],
      );
      await api.db.query(`NOTIFY outbox_events`); // after the commit, as the README asks of writers outside the API
      return id;
    };
    const received = (id: string) => () => receiver.requests.some((r) => r.json?.id === id);
    try {
      const firstPid = await waitFor('the worker to LISTEN', listener, 10_000);
      const first = await commitEventBySql();
      await waitFor('the event committed by SQL to be delivered', received(first), 5_000);

      await api.db.query(`SELECT pg_terminate_backend($1)`, [firstPid]);
      await waitFor(
        'the worker to LISTEN again',
        async () => {
          const pid = await listener();
          return pid !== undefined && pid !== firstPid;
        },
        15_000,
      );
      const second = await commitEventBySql();
      await waitFor('the next event to be delivered after the reconnect', received(second), 5_000);
    } finally {
      await worker.close();
    }
  });

  it('listens through DATABASE_DIRECT_URL when it is set (DATABASE_URL may then be a transaction-mode PgBouncer)', async () => {
    receiver.requests.length = 0;
    receiver.answer(200);
    // A role of its own, so the listening connection shows which URL it came from.
    const role = `scw_direct_${randomBytes(4).toString('hex')}`;
    await api.db.query(`CREATE ROLE ${role} LOGIN`);
    const direct = new URL(api.env.DATABASE_URL);
    direct.username = role;
    const worker = await startTestWorker(api, { WEBHOOK_SWEEP_INTERVAL: '1h', DATABASE_DIRECT_URL: direct.toString() });
    try {
      const listeningAs = await waitFor(
        'the worker to LISTEN',
        async () =>
          (
            await api.db.query(
              `SELECT usename FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'scheduled-calls-worker-listen' AND query ILIKE 'LISTEN%'`,
            )
          )[0]?.usename,
        10_000,
      );
      expect(listeningAs).toBe(role);
      const [id] = await commitEvents(api.db, app.id, 1);
      await waitFor('the event announced by SQL to be delivered', () => receiver.requests.some((r) => r.json?.id === id), 5_000);
    } finally {
      await worker.close();
      await api.db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, [role]);
      await api.db.query(`DROP ROLE ${role}`);
    }
  });

  it('delivers each event once with two workers sharing the queue', async () => {
    receiver.requests.length = 0;
    receiver.answer(200);
    const workers = await Promise.all([startTestWorker(api), startTestWorker(api)]);
    try {
      const before = (await api.db.query(`SELECT count(*)::int AS n FROM outbox_events WHERE app_id = $1`, [app.id]))[0].n;
      await createBookings(60);
      await waitFor('sixty deliveries', () => receiver.requests.length >= 60, 30_000);
      await waitFor('every delivery recorded', allSucceeded, 30_000);
      await new Promise((resolve) => setTimeout(resolve, 500)); // let a duplicate show itself, if there were one
      const ids = receiver.requests.map((r) => r.json.id);
      expect(ids).toHaveLength(60);
      expect(new Set(ids).size).toBe(60);
      expect((await api.db.query(`SELECT count(*)::int AS n FROM outbox_events WHERE app_id = $1`, [app.id]))[0].n).toBe(before + 60);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  });

  it('finishes the attempts in flight on SIGTERM before exiting', async () => {
    receiver.requests.length = 0;
    let answered = 0;
    receiver.responder = (_, res) =>
      void setTimeout(() => {
        answered++;
        res.writeHead(200).end('ok');
      }, 400);
    const worker = new WorkerProcess({ ...api.env, WORKER_CONCURRENCY: '4' });
    processes.push(worker);
    await waitFor('the worker to start', () => worker.started, 30_000);
    await createBookings(4);
    await waitFor('four attempts in flight', () => receiver.requests.length >= 4, 20_000);
    await worker.kill('SIGTERM');
    // Nest re-raises the signal once shutdown is complete; what matters is that it waited.
    expect(answered).toBe(4);
    expect(worker.output).not.toMatch(/ERROR/);
    await waitFor('all four recorded as succeeded', allSucceeded, 10_000);
  });
});
