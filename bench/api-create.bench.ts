/**
 * `npm run bench:api`: creates bookings over HTTP against the built API running as its own process,
 * with 32 concurrent clients, outbox write included. Baseline, in the same run: the same booking +
 * outbox insert sent straight to PostgreSQL with 32 connections, i.e. the floor the database sets.
 * Prints one JSON line last.
 */
import { randomUUID } from 'node:crypto';
import { Pool as PgPool } from 'pg';
import { Pool } from 'undici';
import { freePort, freshDatabase, percentile, progress, round, runConcurrent, startProcess, stopProcess, waitForHttp } from './support';

const TOTAL = Number(process.env.BENCH_CREATES ?? 20_000);
const WARMUP = Math.min(2_000, TOTAL);
const CONCURRENCY = 32;
const ADMIN_TOKEN = 'bench-operator-token-0123456789';

async function main(): Promise<void> {
  const db = await freshDatabase('scw_bench_api');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  progress(`starting the API on ${base}`);
  const api = startProcess('apps/api/src/main.js', {
    DATABASE_URL: db.url,
    PORT: String(port),
    HOST: '127.0.0.1',
    ADMIN_TOKEN,
    // BENCH_LOG_LEVEL=info measures the cost of one JSON access line per request (LOG_FORMAT=json).
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    LOG_FORMAT: 'json',
    QUEUE_PREFIX: 'scw-bench',
  });
  const http = new Pool(base, { connections: CONCURRENCY, pipelining: 1 });
  try {
    await waitForHttp(`${base}/health`, api);
    const created = await http.request({
      method: 'POST',
      path: '/v1/apps',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Bench' }),
    });
    const app = (await created.body.json()) as { id: string; api_key: string };
    const headers = { authorization: `Bearer ${app.api_key}`, 'content-type': 'application/json' };
    const start = Date.now() + 3_600_000;
    const body = (i: number) =>
      JSON.stringify({
        scheduled_at: new Date(start + i * 60_000).toISOString(),
        duration_minutes: 30,
        timezone: 'Europe/Paris',
        guest: { name: `Guest ${i}`, email: `guest${i}@example.com`, phone: '+14155550100' },
        agent: { id: 'agent-1', name: 'Agent' },
        metadata: { order: i, source: 'bench' },
      });
    const post = async (i: number) => {
      const response = await http.request({ method: 'POST', path: `/v1/apps/${app.id}/scheduled-calls`, headers, body: body(i) });
      await response.body.dump();
      if (response.statusCode !== 201) throw new Error(`create answered ${response.statusCode}`);
    };
    progress(`warm-up: ${WARMUP} creates`);
    await runConcurrent(WARMUP, CONCURRENCY, post, 'warm-up');
    progress(`measuring: ${TOTAL} creates with ${CONCURRENCY} concurrent clients`);
    const run = await runConcurrent(TOTAL, CONCURRENCY, (i) => post(WARMUP + i), 'creates');
    await stopProcess(api);

    progress(`baseline: ${TOTAL} booking + outbox inserts straight to PostgreSQL`);
    const pg = new PgPool({ connectionString: db.url, max: CONCURRENCY });
    const payload = body(0);
    const baseline = await runConcurrent(
      TOTAL,
      CONCURRENCY,
      async (i) => {
        const id = randomUUID();
        const at = new Date(start + i * 60_000);
        await pg.query(
          `WITH call AS (INSERT INTO scheduled_calls (id, app_id, status, scheduled_at, ends_at, duration_minutes, timezone, guest, agent,
           requires_confirmation, metadata, version, reschedule_count, created_at, updated_at)
         VALUES ($1, $2, 'scheduled', $3, $3, 30, 'UTC', '{}'::jsonb, NULL, false, '{}'::jsonb, 1, 0, now(), now()) RETURNING id)
         INSERT INTO outbox_events (id, app_id, scheduled_call_id, type, payload, occurred_at) SELECT $4, $2, call.id, 'scheduled.created', $5::jsonb, now() FROM call`,
          [id, app.id, at, randomUUID(), payload],
        );
      },
      'baseline',
    );
    await pg.end();
    const result = {
      creates_per_s: Math.round(TOTAL / run.seconds),
      p50_ms: round(percentile(run.latencies, 50)),
      p99_ms: round(percentile(run.latencies, 99)),
      count: TOTAL,
      concurrency: CONCURRENCY,
      baseline_db_inserts_per_s: Math.round(TOTAL / baseline.seconds),
      baseline_p99_ms: round(percentile(baseline.latencies, 99)),
    };
    console.log(JSON.stringify(result));
  } finally {
    await http.close();
    await stopProcess(api);
    await db.drop();
  }
}

main().catch((error: Error) => {
  console.error(`bench:api failed: ${error.message}`);
  process.exit(1);
});
