/** Shared pieces of the benchmarks: a throwaway database, a spawned process, latency statistics. */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import Redis from 'ioredis';
import { uuidV7 } from '../libs/shared/src/database/uuid-v7';
import { Client } from 'pg';

export const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

export async function freshDatabase(prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const admin = new Client({ connectionString: process.env.BENCH_POSTGRES_URL ?? ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(process.env.BENCH_POSTGRES_URL ?? ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new Client({ connectionString: process.env.BENCH_POSTGRES_URL ?? ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Starts a built app (a path inside dist/) as its own process, like production runs it. */
export function startProcess(script: string, env: Record<string, string>): ChildProcess {
  // BENCH_NODE_ARGS (e.g. --cpu-prof) lets a profile be taken of the process under load.
  const nodeArgs = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : [];
  const child = spawn(process.execPath, [...nodeArgs, join(__dirname, '..', script)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', process.env.BENCH_VERBOSE ? 'inherit' : 'ignore', 'inherit'],
  });
  return child;
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  // A process that died of a signal has exitCode null and signalCode set; either means it is gone.
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

export async function waitForHttp(url: string, child?: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`the process serving ${url} exited with code ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** Runs `total` calls of `task` with `concurrency` in flight; returns per-call latencies in ms. */
export async function runConcurrent(
  total: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
  label: string,
): Promise<{ seconds: number; latencies: number[] }> {
  const latencies: number[] = new Array(total);
  let next = 0;
  let done = 0;
  const started = process.hrtime.bigint();
  const reporter = setInterval(() => progress(`${label}: ${done}/${total}`), 2_000);
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < total; i = next++) {
          const t0 = process.hrtime.bigint();
          await task(i);
          latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
          done++;
        }
      }),
    );
  } finally {
    clearInterval(reporter);
  }
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, latencies: latencies.sort((a, b) => a - b) };
}

/** A run's BullMQ and scheduler keys (the queue's events stream alone holds thousands of entries). */
export async function dropQueueKeys(prefix: string): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1_000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A booking record as the platform serves it (about 1 KB of JSON), scheduled a day ahead, with a UUIDv7 id as the API makes. */
export function bookingRecord(i: number, appId: string): Record<string, unknown> {
  const at = new Date(Date.now() + 86_400_000 + i * 60_000).toISOString();
  return {
    id: uuidV7(new Date()),
    app_id: appId,
    status: 'scheduled',
    scheduled_at: at,
    ends_at: at,
    duration_minutes: 30,
    timezone: 'Europe/Paris',
    guest: { name: `Guest number ${i}`, email: `guest${i}@example.com`, phone: '+14155550100' },
    agent: { id: 'agent-1', name: 'Agent Smith', email: 'agent@example.com' },
    requires_confirmation: false,
    previous_scheduled_at: null,
    reschedule_count: 0,
    reschedule_reason: null,
    confirmed_at: null,
    cancelled_at: null,
    cancellation_reason: null,
    no_show_at: null,
    guest_joined_at: null,
    agent_joined_at: null,
    metadata: { source: 'bench', order: i, notes: 'x'.repeat(300) },
    version: 1,
    created_at: at,
    updated_at: at,
  };
}

/** Bookings and their `scheduled.created` outbox events, in the caller's transaction (two statements); event ids are UUIDv7 of their time, as the API makes them. */
export async function insertBookingEvents(client: Pick<Client, 'query'>, appId: string, records: Array<Record<string, unknown>>): Promise<void> {
  await client.query(
    `INSERT INTO scheduled_calls (id, app_id, status, scheduled_at, ends_at, duration_minutes, timezone, guest, requires_confirmation, metadata, version, reschedule_count, created_at, updated_at)
     SELECT id, $2, 'scheduled', at, at, 30, 'Europe/Paris', '{}'::jsonb, false, '{}'::jsonb, 1, 0, now(), now() FROM unnest($1::uuid[], $3::timestamptz[]) AS t(id, at)`,
    [records.map((r) => r.id), appId, records.map((r) => r.scheduled_at)],
  );
  await client.query(
    `INSERT INTO outbox_events (id, app_id, scheduled_call_id, type, payload, occurred_at)
     SELECT uuid_v7_at(now()), $2, id, 'scheduled.created', payload, now() FROM unnest($1::uuid[], $3::json[]) AS t(id, payload)`,
    [records.map((r) => r.id), appId, records.map((r) => JSON.stringify({ scheduled_call: r }))],
  );
}

/** One booking and its outbox event in one statement (its own transaction), as the API's create commits them. */
export function commitBookingEvent(client: Pick<Client, 'query'>, appId: string, record: Record<string, unknown>): Promise<unknown> {
  return client.query(
    `WITH call AS (
       INSERT INTO scheduled_calls (id, app_id, status, scheduled_at, ends_at, duration_minutes, timezone, guest, requires_confirmation, metadata, version, reschedule_count, created_at, updated_at)
       VALUES ($1, $2, 'scheduled', $3, $3, 30, 'Europe/Paris', '{}'::jsonb, false, '{}'::jsonb, 1, 0, now(), now()) RETURNING id
     )
     INSERT INTO outbox_events (id, app_id, scheduled_call_id, type, payload, occurred_at)
     SELECT uuid_v7_at(now()), $2, id, 'scheduled.created', $4::json, now() FROM call`,
    [record.id, appId, record.scheduled_at, JSON.stringify({ scheduled_call: record })],
  );
}
