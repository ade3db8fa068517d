/**
 * `npm run bench:delivery`: events through the real pipeline (outbox, fan-out, queue, one worker
 * process, HTTP, attempt log) to a loopback receiver, against a baseline measured in the same run
 * (the same number of signed POSTs from one process with the worker's client and concurrency).
 *   1. burst: BENCH_EVENTS (20,000) events committed at once; throughput until every attempt is logged;
 *   2. steady: events committed at 1,000/s, one booking and its outbox event per transaction, as the
 *      API's create does; latency from the commit (its acknowledgement) to the receiver's 2xx, and
 *      p99_from_send_ms from the statement being sent (adds the commit's own queueing and fsync). The API is left out of this pass on purpose: its own create latency is what
 *      bench:api measures, and the pipeline's latency starts at the commit.
 * Prints one JSON line last.
 */
import { execFile, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Pool as PgPool } from 'pg';
import { Pool } from 'undici';
import {
  bookingRecord as record,
  commitBookingEvent,
  dropQueueKeys,
  insertBookingEvents,
  freePort,
  freshDatabase,
  percentile,
  progress,
  round,
  startProcess,
  stopProcess,
  waitForHttp,
} from './support';

const DEFAULT_EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const STEADY_RATE = 1_000;
const DEFAULT_STEADY_SECONDS = Number(process.env.BENCH_STEADY_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.WORKER_CONCURRENCY ?? 50);
const ADMIN_TOKEN = 'bench-operator-token-0123456789';

export interface DeliveryBenchOptions {
  /** Run against this database (already migrated, e.g. one with a seeded history) instead of a fresh one. */
  databaseUrl?: string;
  events?: number;
  steadySeconds?: number;
}

export interface DeliveryBenchResult {
  deliveries_per_s: number;
  baseline_per_s: number;
  ratio: number;
  p50_ms: number;
  p99_ms: number;
  steady_rate: number;
  worker_rss_mb: number | null;
  p99_from_send_ms: number;
  steady_commit_p50_ms: number;
  steady_commit_p99_ms: number;
  events: number;
  concurrency: number;
}

/** The whole measurement; bench:growth runs it against a seeded and an empty database. */
export async function runDeliveryBench(options: DeliveryBenchOptions = {}): Promise<DeliveryBenchResult> {
  const EVENTS = options.events ?? DEFAULT_EVENTS;
  const STEADY_SECONDS = options.steadySeconds ?? DEFAULT_STEADY_SECONDS;
  const db = options.databaseUrl ? { url: options.databaseUrl, drop: async () => undefined } : await freshDatabase('scw_bench_delivery');
  const apiPort = await freePort();
  const prefix = `scw-bench-${Date.now()}`;
  const env = {
    DATABASE_URL: db.url,
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    ADMIN_TOKEN,
    LOG_LEVEL: 'warn',
    QUEUE_PREFIX: prefix,
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    WORKER_CONCURRENCY: String(CONCURRENCY),
    WORKER_METRICS_PORT: '0',
    NO_SHOW_INTERVAL: '1h',
  };

  // The receiver runs in its own process (see delivery-receiver.ts); arrivals are epoch milliseconds.
  const receiver = fork(join(__dirname, 'delivery-receiver.js'));
  const { port: receiverPort } = await new Promise<{ port: number }>((resolve) => receiver.once('message', (m) => resolve(m as { port: number })));
  const receiverUrl = `http://127.0.0.1:${receiverPort}/hooks`;
  const arrivals = new Map<string, number>();
  const collectArrivals = () =>
    new Promise<void>((resolve) => {
      receiver.once('message', (m) => {
        for (const [seq, at] of (m as { arrivals: Array<[string, number]> }).arrivals) arrivals.set(seq, at);
        resolve();
      });
      receiver.send('report');
    });
  const now = () => performance.timeOrigin + performance.now();

  progress('starting the API and one worker');
  const api = startProcess('apps/api/src/main.js', env);
  let worker: ReturnType<typeof startProcess> | undefined;
  const http = new Pool(`http://127.0.0.1:${apiPort}`, { connections: 32 });
  const pg = new Client({ connectionString: db.url });
  try {
    await waitForHttp(`http://127.0.0.1:${apiPort}/health`, api);
    const call = async (method: 'POST', path: string, token: string, body: unknown) => {
      const response = await http.request({
        method,
        path,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await response.body.json()) as Record<string, any>;
      if (response.statusCode >= 300) throw new Error(`${path} answered ${response.statusCode}: ${JSON.stringify(json)}`);
      return json;
    };
    const app = await call('POST', '/v1/apps', ADMIN_TOKEN, { name: 'Bench' });
    const subscription = await call('POST', `/v1/apps/${app.id}/webhook-subscriptions`, app.api_key, { url: receiverUrl, events: ['*'] });
    worker = startProcess('apps/worker/src/main.js', env);
    await pg.connect();

    const insertEvents = async (count: number): Promise<void> => {
      await pg.query('BEGIN');
      for (let from = 0; from < count; from += 5_000) {
        const records = Array.from({ length: Math.min(5_000, count - from) }, (_, k) => record(from + k, app.id));
        await insertBookingEvents(pg, app.id, records);
      }
      await pg.query('COMMIT');
      await pg.query('NOTIFY outbox_events');
    };
    // This run's subscription only (an index range): a database with a seeded history holds millions more.
    const succeeded = async (): Promise<number> =>
      (await pg.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE subscription_id = $1 AND status = 'succeeded'`, [subscription.id])).rows[0].n;
    const waitSucceeded = async (target: number, label: string): Promise<void> => {
      let last = -1;
      let lastChange = Date.now();
      for (;;) {
        const n = await succeeded();
        if (n >= target) return;
        if (n !== last) {
          progress(`${label}: ${n}/${target} deliveries logged`);
          last = n;
          lastChange = Date.now();
        } else if (Date.now() - lastChange > 60_000) {
          const states = (
            await pg.query(`SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE subscription_id = $1 GROUP BY status`, [subscription.id])
          ).rows;
          throw new Error(`${label}: no delivery succeeded for 60 s (${JSON.stringify(states)}); rerun with BENCH_VERBOSE=1 to see the worker's log`);
        }
        await new Promise((r) => setTimeout(r, n > target * 0.95 ? 20 : 1_000));
      }
    };

    progress('warm-up: 1,000 events');
    await insertEvents(1_000);
    await waitSucceeded(1_000, 'warm-up');

    progress(`burst: ${EVENTS} events committed at once`);
    const before = await succeeded();
    const burstStart = performance.now();
    await insertEvents(EVENTS);
    await waitSucceeded(before + EVENTS, 'burst');
    const burstSeconds = (performance.now() - burstStart) / 1000;

    progress(`steady: events committed one per transaction at ${STEADY_RATE}/s for ${STEADY_SECONDS} s`);
    const total = STEADY_RATE * STEADY_SECONDS;
    const sentAt = new Map<string, number>();
    const committedAt = new Map<string, number>();
    const committer = new PgPool({ connectionString: db.url, max: 8 });
    const steadyStart = now();
    const commits: Array<Promise<unknown>> = [];
    for (let i = 0; i < total; i++) {
      const due = steadyStart + (i * 1000) / STEADY_RATE;
      const wait = due - now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const r = record(EVENTS + 1_000 + i, app.id);
      (r.metadata as Record<string, unknown>).seq = i;
      const t0 = now();
      sentAt.set(String(i), t0);
      commits.push(
        commitBookingEvent(committer, app.id, r).then(() => {
          // Latency runs from the commit: the moment its acknowledgement arrives (a hair after the commit
          // point). From the statement's send adds this process's pool queue and the commit's own fsync.
          committedAt.set(String(i), now());
          // Announced after the commit, as any writer outside the API does (the API wakes its fan-out in-process).
          return committer.query('NOTIFY outbox_events');
        }),
      );
    }
    await Promise.all(commits);
    await committer.end();
    const deadline = Date.now() + 60_000;
    do {
      await new Promise((r) => setTimeout(r, 100));
      await collectArrivals();
    } while ([...sentAt.keys()].some((k) => !arrivals.has(k)) && Date.now() < deadline);
    const latencies = [...committedAt].map(([k, t]) => (arrivals.get(k) ?? Infinity) - t).sort((a, b) => a - b);
    const fromSend = [...sentAt].map(([k, t]) => (arrivals.get(k) ?? Infinity) - t).sort((a, b) => a - b);
    const commitLatencies = [...committedAt].map(([k, t]) => t - sentAt.get(k)!).sort((a, b) => a - b);

    const rss = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${worker.pid}/status`, 'utf8'));
    await stopProcess(worker);
    await stopProcess(api);

    progress(`baseline: ${EVENTS} signed POSTs from one process, concurrency ${CONCURRENCY}`);
    const payload = Buffer.from(JSON.stringify({ scheduled_call: record(0, app.id) })).toString('base64');
    const { stdout } = await promisify(execFile)(process.execPath, [
      join(__dirname, 'delivery-baseline.js'),
      receiverUrl,
      String(EVENTS),
      String(CONCURRENCY),
      payload,
    ]);
    const baseline = JSON.parse(stdout.trim().split('\n').pop()!).per_s as number;

    const deliveriesPerS = EVENTS / burstSeconds;
    return {
      deliveries_per_s: Math.round(deliveriesPerS),
      baseline_per_s: Math.round(baseline),
      ratio: round(deliveriesPerS / baseline, 3),
      p50_ms: round(percentile(latencies, 50)),
      p99_ms: round(percentile(latencies, 99)),
      steady_rate: STEADY_RATE,
      worker_rss_mb: rss ? Math.round(Number(rss[1]) / 1024) : null,
      p99_from_send_ms: round(percentile(fromSend, 99)),
      steady_commit_p50_ms: round(percentile(commitLatencies, 50)),
      steady_commit_p99_ms: round(percentile(commitLatencies, 99)),
      events: EVENTS,
      concurrency: CONCURRENCY,
    };
  } finally {
    await pg.end().catch(() => undefined);
    await http.close();
    if (worker) await stopProcess(worker);
    await stopProcess(api);
    receiver.kill();
    await db.drop();
    await dropQueueKeys(prefix);
  }
}

if (require.main === module) {
  runDeliveryBench().then(
    (result) => console.log(JSON.stringify(result)),
    (error: Error) => {
      console.error(`bench:delivery failed: ${error.message}`);
      process.exit(1);
    },
  );
}
