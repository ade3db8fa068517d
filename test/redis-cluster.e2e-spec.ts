import { readApiConfig } from '../apps/api/src/config/api-config';
import { ConfigError } from '../libs/shared/src/config/env-parsers';
import { assertRedisReachable, redisDurabilityWarnings } from '../libs/shared/src/redis/redis-connection';
import { consumerConnection } from '../libs/shared/src/webhooks/queue-connection';
import { TestRedisCluster } from './support/redis-cluster';
import { createVideoApp, operator, startTestApi, TestApi, TestVideoApp } from './support/test-api';
import { TestReceiver } from './support/test-receiver';
import { TEST_REDIS_URL } from './support/test-env';
import { startTestWorker, TestWorker } from './support/test-worker';
import { waitFor } from './support/wait-for';
import { WorkerProcess } from './support/worker-process';

/**
 * The whole pipeline on a private three-node Redis Cluster (redis-server --cluster-enabled yes):
 * the API and workers connect with a redis+cluster:// URL, and nothing committed is lost when a
 * worker is SIGKILLed or when the node serving the deployment's slot dies (with everything it held)
 * and comes back.
 */
jest.setTimeout(180_000);

const SUBSCRIPTIONS = 3;

describe('Redis Cluster', () => {
  let cluster: TestRedisCluster | undefined;
  let api: TestApi | undefined;
  let app: TestVideoApp;
  let receiver: TestReceiver | undefined;
  const processes: WorkerProcess[] = [];
  const workers: TestWorker[] = [];
  /** `<subscription_id>:<event id>` of every delivery the receiver answered 2xx: the receiver's idempotency key (SPEC §3). */
  const delivered = new Set<string>();

  beforeAll(async () => {
    cluster = new TestRedisCluster(); // assigned before it starts, so afterAll stops whatever part of it started
    await cluster.start(3);
    api = await startTestApi({
      REDIS_URL: cluster.url,
      // Room for a first failure, interrupted attempts and the outage's retries, each a few hundred ms apart.
      WEBHOOK_RETRY_SCHEDULE: '0s,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms',
      WEBHOOK_TIMEOUT_MS: '2000',
      AUTH_FAILURE_LIMIT: '3',
    });
    app = await createVideoApp(api);
    receiver = await new TestReceiver().start();
    for (let i = 0; i < SUBSCRIPTIONS; i++) {
      await api.http
        .post(`/v1/apps/${app.id}/webhook-subscriptions`)
        .set(app.auth)
        .send({ url: `${receiver.url}/hook-${i}`, events: ['*'] })
        .expect(201);
    }
  });

  afterAll(async () => {
    // Each step runs even when one before it failed, so no process or folder outlives a failed run.
    const steps: Array<() => Promise<unknown> | undefined> = [
      () => Promise.all(processes.map((p) => p.kill('SIGKILL'))),
      () => Promise.all(workers.map((w) => w.close())),
      () => receiver?.stop(),
      () => api?.close(),
      () => cluster?.stop(),
    ];
    for (const step of steps)
      await Promise.resolve()
        .then(step)
        .catch((error: Error) => console.error(`cleanup: ${error.message}`));
  });

  const effectivePrefix = (): string => readApiConfig(api!.env).queuePrefix;

  async function createBookings(n: number): Promise<void> {
    const start = api!.clock.now().getTime() + 3_600_000;
    for (let i = 0; i < n; i++) {
      await api!.http
        .post(`/v1/apps/${app.id}/scheduled-calls`)
        .set(app.auth)
        .send({ scheduled_at: new Date(start + i * 60_000).toISOString(), duration_minutes: 15, guest: { name: `G${i}`, email: `g${i}@example.com` } })
        .expect(201);
    }
  }

  const lastSeq = async (): Promise<string> => (await api!.db.query(`SELECT coalesce(max(seq), 0)::text AS seq FROM outbox_events`))[0].seq;

  /** (subscription, event) pairs committed after `afterSeq` that no 2xx answer has covered yet. */
  async function missing(afterSeq: string): Promise<string[]> {
    const pairs: Array<{ key: string }> = await api!.db.query(
      `SELECT s.id || ':' || e.id AS key FROM outbox_events e JOIN webhook_subscriptions s ON s.app_id = e.app_id WHERE e.app_id = $1 AND e.seq > $2`,
      [app.id, afterSeq],
    );
    return pairs.map((p) => p.key).filter((key) => !delivered.has(key));
  }

  const unfinished = async (): Promise<number> =>
    (await api!.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE app_id = $1 AND status <> 'succeeded'`, [app.id]))[0].n;

  /** Answers 500 to the first attempt of the events `failFirst` picks, 200 to everything else, after `delayMs`. */
  function respond(failFirst: (eventId: string) => boolean, delayMs: number): void {
    receiver!.responder = (request, res) => {
      const body = request.json;
      setTimeout(() => {
        if (body.attempt === 1 && failFirst(String(body.id))) return void res.writeHead(500).end('not yet');
        delivered.add(`${body.subscription_id}:${body.id}`);
        res.writeHead(200).end('ok');
      }, delayMs);
    };
  }

  it('keeps the queue and the scheduler in the slot of the hash-tagged prefix, and fires retry timers there', async () => {
    const prefix = effectivePrefix();
    expect(prefix).toBe(`{${api!.env.QUEUE_PREFIX}}`);
    // No sweep offers a late delivery for an hour: a retry can only come from its BullMQ timer.
    const worker = await startTestWorker(api!, { WEBHOOK_SWEEP_GRACE: '1h' });
    workers.push(worker);
    try {
      respond(() => true, 0);
      const from = await lastSeq();
      await createBookings(1);
      await waitFor('each subscription to get the event on its second attempt', async () => (await missing(from)).length === 0, 20_000, 50);
      const attempts: Array<{ n: number }> = await api!.db.query(`SELECT attempt_count AS n FROM webhook_deliveries WHERE app_id = $1`, [app.id]);
      expect(attempts.map((a) => a.n)).toEqual(Array(SUBSCRIPTIONS).fill(2));

      const port = await cluster!.portServing(prefix);
      const keys = await cluster!.keysOn(port, `${prefix}:*`);
      expect(keys).toEqual(expect.arrayContaining([`${prefix}:{fair}:workers`, `${prefix}:webhook-deliveries:meta`]));
      for (const other of cluster!.ports.filter((p) => p !== port)) expect(await cluster!.keysOn(other, '*')).toEqual([]);
    } finally {
      await worker.close();
      workers.splice(workers.indexOf(worker), 1);
    }
  });

  it('delivers every event to every subscription through a worker SIGKILL and a restart of the node holding the queue', async () => {
    const from = await lastSeq();
    // Every fourth event fails its first attempt, so retries go through BullMQ's delayed jobs too.
    respond((id) => parseInt(id.slice(-1), 16) % 4 === 0, 150);

    const first = new WorkerProcess({ ...api!.env, WORKER_CONCURRENCY: '4' });
    processes.push(first);
    await waitFor('the first worker process to start', () => first.started, 60_000, 100);
    await createBookings(40);
    await waitFor('deliveries to be in flight', () => delivered.size >= 15, 30_000);
    await first.kill('SIGKILL');

    const second = new WorkerProcess({ ...api!.env, WORKER_CONCURRENCY: '4' });
    processes.push(second);
    await waitFor('the second worker process to start', () => second.started, 60_000, 100);
    const before = delivered.size;
    await waitFor('the second worker to take over', () => delivered.size >= before + 10, 30_000);

    // The node serving the deployment's slot holds the scheduler's lanes and the retry timers:
    // it dies with all of them (nothing is persisted) mid-run, while events keep being committed.
    expect(await unfinished()).toBeGreaterThan(0);
    const port = await cluster!.portServing(effectivePrefix());
    await cluster!.kill(port);
    await createBookings(10);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await cluster!.restart(port);
    workers.push(await startTestWorker(api!, { WORKER_CONCURRENCY: '4' }));

    await waitFor('every event to reach every subscription', async () => (await missing(from)).length === 0, 90_000, 200);
    await waitFor('every delivery to be recorded as succeeded', async () => (await unfinished()) === 0, 30_000, 200);
    const [{ n }] = await api!.db.query(
      `SELECT count(*)::int AS n FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id WHERE d.app_id = $1 AND e.seq > $2`,
      [app.id, from],
    );
    expect(n).toBe(50 * SUBSCRIPTIONS);
  });

  it('serves health, metrics and the failed-authentication limit from the cluster', async () => {
    await waitFor('GET /health to answer 200', async () => (await api!.http.get('/health')).status === 200, 15_000, 200);
    const metrics = await api!.http.get('/metrics').set(operator).expect(200);
    expect(metrics.text).toMatch(/webhook_scheduler_subscriptions\{state="ready"\} \d+/);
    expect(metrics.text).toMatch(/webhook_queue_jobs\{state="delayed"\} \d+/);
    const wrong = { authorization: 'Bearer sk_wrong_0123456789abcdef' };
    for (let i = 0; i < 3; i++) await api!.http.get(`/v1/apps/${app.id}`).set(wrong).expect(401);
    await api!.http.get(`/v1/apps/${app.id}`).set(wrong).expect(429);
  });

  it('announces a key revocation to subscribers on any node of the cluster', async () => {
    const subscriber = consumerConnection(cluster!.url);
    const messages: string[] = [];
    subscriber.on('message', (_channel: string, raw: string) => messages.push(raw));
    try {
      await subscriber.subscribe(`${effectivePrefix()}:api-keys:revoked`);
      const key = (await api!.http.post(`/v1/apps/${app.id}/api-keys`).set(app.auth).send({ name: 'short-lived' }).expect(201)).body;
      await api!.http.delete(`/v1/apps/${app.id}/api-keys/${key.id}`).set(app.auth).expect(204);
      await waitFor('the revocation to be announced', () => messages.some((raw) => JSON.parse(raw).keyId === key.id), 5_000);
    } finally {
      subscriber.disconnect();
    }
  });

  it('refuses at start a URL whose form does not match the server, and checks every primary', async () => {
    const [port] = cluster!.ports;
    await expect(assertRedisReachable(`redis://127.0.0.1:${port}`)).rejects.toThrow(ConfigError);
    const single = new URL(TEST_REDIS_URL); // only read (PING, INFO)
    await expect(assertRedisReachable(`redis+cluster://${single.host}`)).rejects.toThrow(/is a single Redis/);
    await expect(assertRedisReachable(`redis+cluster://127.0.0.1:${port}`)).resolves.toBeUndefined();
    const warnings = await redisDurabilityWarnings(`redis+cluster://127.0.0.1:${port}`);
    expect(warnings).toEqual([expect.stringMatching(/keeps nothing on disk/)]);
    for (const p of cluster!.ports) expect(warnings[0]).toContain(`127.0.0.1:${p}`);
  });
});
