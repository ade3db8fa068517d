/**
 * `npm run bench:isolation` (issue 9): does one subscription's backlog delay another's deliveries?
 * One API and one worker process throughout. An event goes to every subscription of its app, so each
 * subscription has an app of its own: H (healthy: answers 200 at once), X (hang: never answers),
 * S (slow: answers 200 after 200 ms) and S2 (slow, drained alone); see isolation-receiver.ts.
 * H's traffic is committed by SQL at 100 events/s, one event per transaction, each announced with
 * NOTIFY after its commit; its latency runs from the commit's acknowledgement to H's receiver.
 *   0. warm-up: a few hundred healthy events;
 *   1. alone: healthy traffic for BENCH_PHASE_SECONDS (15) and nothing else -> alone_p50/p99;
 *   2. hang: 5,000 events for X in one transaction, then healthy traffic -> hang_p50/p99; then X is
 *      paused through the API so that it stops competing;
 *   3. slow: 5,000 events for S in one transaction, then healthy traffic -> slow_p50/p99, and
 *      slow_drain_per_s = 5,000 / seconds from that commit until all of S's deliveries succeeded;
 *   4. slow alone: 5,000 events for S2 and no other traffic -> slow_alone_drain_per_s.
 * Phases start settled: nothing pending or retrying, no request open at a receiver, every healthy
 * event arrived. A healthy event still missing BENCH_ARRIVAL_DEADLINE_SECONDS (30) after its phase's
 * traffic ended counts as an infinite latency: a percentile it reaches prints as null, and
 * `<phase>_missing` says how many. A drain or a settling that makes no headway fails the run with
 * each app's delivery statuses. Prints one JSON line last.
 */
import { ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Pool as PgPool } from 'pg';
import { Pool } from 'undici';
import type { ReceiverReport, ReceiverRole } from './isolation-receiver';
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

const PHASE_SECONDS = Number(process.env.BENCH_PHASE_SECONDS ?? 15);
const CONCURRENCY = Number(process.env.WORKER_CONCURRENCY ?? 50);
const ARRIVAL_DEADLINE_MS = Number(process.env.BENCH_ARRIVAL_DEADLINE_SECONDS ?? 30) * 1_000;
const HEALTHY_RATE = 100;
const WARM_UP_EVENTS = 300;
const BACKLOG_EVENTS = 5_000;
const TIMEOUT_MS = 2_000;
/** The slow receivers' answer time; the ideal drain of one slow subscription is CONCURRENCY / SLOW_MS. */
const SLOW_MS = 200;
/** A drain or a settling fails when nothing moved for STALL_MS, or when it passes its limit. */
const STALL_MS = 30_000;
const DRAIN_LIMIT_MS = 180_000;
const SETTLE_LIMIT_MS = 60_000;
const PROGRESS_EVERY_MS = 2_000;
const ADMIN_TOKEN = 'bench-operator-token-0123456789';

interface BenchApp {
  name: string;
  id: string;
  apiKey: string;
  subscriptionId: string;
}

/** Latencies of one phase's healthy events, ascending; a missing arrival is Infinity. */
interface PhaseLatencies {
  sorted: number[];
  missing: number;
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Milliseconds for the JSON line: an infinite percentile (a missing arrival) prints as null. */
const ms = (value: number): number | null => (Number.isFinite(value) ? round(value) : null);

async function main(): Promise<void> {
  const db = await freshDatabase('scw_bench_isolation');
  const apiPort = await freePort();
  const prefix = `scw-bench-isolation-${Date.now()}`;
  const env = {
    DATABASE_URL: db.url,
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    ADMIN_TOKEN,
    LOG_LEVEL: 'warn',
    QUEUE_PREFIX: prefix,
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
    WORKER_CONCURRENCY: String(CONCURRENCY),
    WORKER_METRICS_PORT: '0',
    NO_SHOW_INTERVAL: '1h',
  };

  const receiver = fork(join(__dirname, 'isolation-receiver.js'), [String(SLOW_MS)]);
  const { ports } = await new Promise<{ ports: Record<ReceiverRole, number> }>((resolve) =>
    receiver.once('message', (m) => resolve(m as { ports: Record<ReceiverRole, number> })),
  );
  const receiverUrl = (role: ReceiverRole) => `http://127.0.0.1:${ports[role]}/hooks`;
  const receivers = new ReceiverProbe(receiver);

  progress(`starting the API and one worker (WORKER_CONCURRENCY ${CONCURRENCY}, WEBHOOK_TIMEOUT_MS ${TIMEOUT_MS})`);
  const api = startProcess('apps/api/src/main.js', env);
  let worker: ChildProcess | undefined;
  const http = new Pool(`http://127.0.0.1:${apiPort}`, { connections: 4 });
  // Three sets of connections, so that no one waits for another: the healthy commits, the backlogs'
  // transactions, and the watching (drain polls, settling, progress).
  const committer = new PgPool({ connectionString: db.url, max: 4 });
  const bulk = new Client({ connectionString: db.url });
  const monitor = new PgPool({ connectionString: db.url, max: 2 });
  try {
    await waitForHttp(`http://127.0.0.1:${apiPort}/health`, api);
    const call = async (path: string, token: string, body: unknown) => {
      const response = await http.request({
        method: 'POST',
        path,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await response.body.json()) as Record<string, any>;
      if (response.statusCode >= 300) throw new Error(`${path} answered ${response.statusCode}: ${JSON.stringify(json)}`);
      return json;
    };
    const createApp = async (name: string, role: ReceiverRole): Promise<BenchApp> => {
      const app = await call('/v1/apps', ADMIN_TOKEN, { name: `Bench ${name}` });
      const subscription = await call(`/v1/apps/${app.id}/webhook-subscriptions`, app.api_key, { url: receiverUrl(role), events: ['*'] });
      return { name, id: app.id, apiKey: app.api_key, subscriptionId: subscription.id };
    };
    const healthy = await createApp('H', 'healthy');
    const hang = await createApp('X', 'hang');
    const slow = await createApp('S', 'slow');
    const slowAlone = await createApp('S2', 'slow2');
    const apps = [healthy, hang, slow, slowAlone];
    worker = startProcess('apps/worker/src/main.js', env);
    const running = worker;
    await bulk.connect();

    const assertRunning = () => {
      for (const [name, child] of [
        ['worker', running],
        ['API', api],
      ] as const) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`the ${name} process exited (${child.exitCode ?? child.signalCode}); rerun with BENCH_VERBOSE=1 to see its log`);
      }
    };
    /** Each app's deliveries by status, and what the receivers hold: what a stuck phase is stuck on. */
    const describeState = async (): Promise<string> => {
      const rows: Array<{ subscription_id: string; status: string; n: number }> = (
        await monitor.query(`SELECT subscription_id, status, count(*)::int AS n FROM webhook_deliveries GROUP BY 1, 2 ORDER BY 1, 2`)
      ).rows;
      const perApp = apps.map((app) => {
        const statuses = rows.filter((row) => row.subscription_id === app.subscriptionId).map((row) => `${row.status} ${row.n}`);
        return `${app.name} {${statuses.join(', ')}}`;
      });
      const c = receivers.counts;
      return `deliveries ${perApp.join(' ')}; receivers: hang ${c.hang.received} received/${c.hang.open} open, slow ${c.slow.received}/${c.slow.open}, slow2 ${c.slow2.received}/${c.slow2.open}`;
    };
    /** A progress line every PROGRESS_EVERY_MS until the returned function is called. */
    const watch = (label: string, extra: () => string = () => ''): (() => void) => {
      const started = performance.now();
      let busy = false;
      const timer = setInterval(() => {
        if (busy) return;
        busy = true;
        receivers
          .collect()
          .then(() => describeState())
          .then((state) => progress(`${label} ${Math.round((performance.now() - started) / 1_000)} s: ${extra()}${state}`))
          .catch((error: Error) => progress(`${label}: progress query failed: ${error.message}`))
          .finally(() => {
            busy = false;
          });
      }, PROGRESS_EVERY_MS);
      return () => clearInterval(timer);
    };

    let nextSeq = 0;
    const everyHealthy = new Map<string, number>();
    /** Commits `count` of H's events at HEALTHY_RATE, one per transaction, noting each commit's time by seq in `committedAt`. */
    const healthyTraffic = async (count: number, committedAt: Map<string, number>): Promise<void> => {
      const start = now();
      const commits: Array<Promise<unknown>> = [];
      for (let i = 0; i < count; i++) {
        const wait = start + (i * 1_000) / HEALTHY_RATE - now();
        if (wait > 1) await sleep(wait);
        const seq = String(nextSeq++);
        const r = record(Number(seq), healthy.id);
        (r.metadata as Record<string, unknown>).seq = Number(seq);
        commits.push(
          commitBookingEvent(committer, healthy.id, r).then(() => {
            // From the commit's acknowledgement, as bench:delivery; announced after the commit.
            const at = now();
            committedAt.set(seq, at);
            everyHealthy.set(seq, at);
            return committer.query('NOTIFY outbox_events');
          }),
        );
      }
      await Promise.all(commits);
    };
    /** Waits up to ARRIVAL_DEADLINE_MS for the phase's healthy events; what has not come is Infinity. */
    const healthyLatencies = async (label: string, committedAt: Map<string, number>): Promise<PhaseLatencies> => {
      const deadline = Date.now() + ARRIVAL_DEADLINE_MS;
      for (;;) {
        assertRunning();
        await receivers.collect();
        const missing = [...committedAt.keys()].filter((seq) => !receivers.arrivals.has(seq)).length;
        if (missing === 0) break;
        if (Date.now() >= deadline) {
          progress(
            `${label}: ${missing} of ${committedAt.size} healthy events had not arrived ${ARRIVAL_DEADLINE_MS / 1_000} s after the traffic ended; they count as infinite latency (${await describeState()})`,
          );
          break;
        }
        await sleep(100);
      }
      const sorted = [...committedAt].map(([seq, at]) => (receivers.arrivals.get(seq) ?? Infinity) - at).sort((a, b) => a - b);
      return { sorted, missing: sorted.filter((latency) => latency === Infinity).length };
    };
    /** Healthy traffic for the phase, then its arrivals; progress meanwhile. */
    const healthyPhase = async (label: string, events: number): Promise<PhaseLatencies> => {
      const committedAt = new Map<string, number>();
      const stop = watch(label, () => `healthy ${[...committedAt.keys()].filter((seq) => receivers.arrivals.has(seq)).length}/${committedAt.size} arrived; `);
      try {
        await healthyTraffic(events, committedAt);
        const phaseStart = Math.min(...committedAt.values());
        const latencies = await healthyLatencies(label, committedAt);
        if (process.env.BENCH_TIMELINE) {
          // The slowest events and when in the phase they were committed: shows whether a tail is one stall or spread out.
          const worst = [...committedAt]
            .map(([seq, at]) => ({ at: Math.round(at - phaseStart), ms: Math.round((receivers.arrivals.get(seq) ?? Infinity) - at) }))
            .sort((a, b) => b.ms - a.ms)
            .slice(0, 25);
          progress(`${label}: slowest (ms into the phase: latency) ${worst.map((w) => `${w.at}:${w.ms}`).join(' ')}`);
        }
        const shown = (at: number) => ms(percentile(latencies.sorted, at)) ?? 'infinite';
        progress(`${label}: healthy p50 ${shown(50)} ms, p99 ${shown(99)} ms, ${latencies.missing} missing`);
        return latencies;
      } finally {
        stop();
      }
    };
    /** `count` events for one app in one transaction, announced after its commit; resolves with the commit's time. */
    const commitBacklog = async (app: BenchApp, count: number): Promise<number> => {
      const records = Array.from({ length: count }, (_, k) => record(k, app.id));
      await bulk.query('BEGIN');
      await insertBookingEvents(bulk, app.id, records);
      await bulk.query('COMMIT');
      const committed = now();
      await bulk.query('NOTIFY outbox_events');
      return committed;
    };
    /** Seconds from `committed` until every one of the app's BACKLOG_EVENTS deliveries succeeded. */
    const drainSeconds = async (label: string, app: BenchApp, committed: number): Promise<number> => {
      let best = -1;
      let lastMove = Date.now();
      for (;;) {
        assertRunning();
        const done: number = (
          await monitor.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE subscription_id = $1 AND status = 'succeeded'`, [app.subscriptionId])
        ).rows[0].n;
        const seconds = (now() - committed) / 1_000;
        if (done >= BACKLOG_EVENTS) {
          progress(`${label}: ${app.name}'s ${BACKLOG_EVENTS} deliveries succeeded in ${seconds.toFixed(1)} s`);
          return seconds;
        }
        if (done > best) {
          best = done;
          lastMove = Date.now();
        } else if (Date.now() - lastMove > STALL_MS || seconds * 1_000 > DRAIN_LIMIT_MS) {
          throw new Error(
            `${label}: ${done}/${BACKLOG_EVENTS} of ${app.name}'s deliveries succeeded after ${Math.round(seconds)} s, none in the last ${Math.round((Date.now() - lastMove) / 1_000)} s; ${await describeState()}`,
          );
        }
        // Coarse while far from done, fine at the end, where the measured time is decided.
        await sleep(done >= BACKLOG_EVENTS * 0.95 ? 20 : 250);
      }
    };
    /** Until nothing is pending or retrying, no receiver holds a request, and every healthy event arrived. */
    const settle = async (label: string): Promise<void> => {
      const started = Date.now();
      for (;;) {
        assertRunning();
        await receivers.collect();
        const waiting: number = (await monitor.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status IN ('pending', 'retrying')`)).rows[0].n;
        const c = receivers.counts;
        const open = c.hang.open + c.slow.open + c.slow2.open;
        const late = [...everyHealthy.keys()].filter((seq) => !receivers.arrivals.has(seq)).length;
        if (waiting === 0 && open === 0 && late === 0) return;
        if (Date.now() - started > SETTLE_LIMIT_MS) {
          throw new Error(
            `${label}: not settled after ${SETTLE_LIMIT_MS / 1_000} s: ${waiting} deliveries pending or retrying, ${open} requests open at the receivers, ${late} healthy events never arrived; ${await describeState()}`,
          );
        }
        await sleep(100);
      }
    };

    progress(`warm-up: ${WARM_UP_EVENTS} healthy events`);
    await healthyTraffic(WARM_UP_EVENTS, new Map());
    await settle('warm-up');

    const phaseEvents = HEALTHY_RATE * PHASE_SECONDS;
    progress(`alone: healthy events at ${HEALTHY_RATE}/s for ${PHASE_SECONDS} s`);
    const alone = await healthyPhase('alone', phaseEvents);
    await settle('after alone');

    progress(`hang: ${BACKLOG_EVENTS} events for X (never answers; timeout ${TIMEOUT_MS} ms), healthy at ${HEALTHY_RATE}/s for ${PHASE_SECONDS} s`);
    const hangReceivedBefore = receivers.counts.hang.received;
    await commitBacklog(hang, BACKLOG_EVENTS);
    const hangPhase = await healthyPhase('hang', phaseEvents);
    await receivers.collect();
    const hangAttempts = receivers.counts.hang.received - hangReceivedBefore;
    progress(`hang: pausing X (${hangAttempts} attempts reached its receiver)`);
    await call(`/v1/apps/${hang.id}/webhook-subscriptions/${hang.subscriptionId}/pause`, hang.apiKey, {});
    await settle('after hang');

    progress(`slow: ${BACKLOG_EVENTS} events for S (answers after ${SLOW_MS} ms), healthy at ${HEALTHY_RATE}/s for ${PHASE_SECONDS} s`);
    const slowCommitted = await commitBacklog(slow, BACKLOG_EVENTS);
    // The drain is waited for even when the healthy traffic ends first.
    const [slowSeconds, slowPhase] = await Promise.all([drainSeconds('slow', slow, slowCommitted), healthyPhase('slow', phaseEvents)]);
    await settle('after slow');

    progress(`slow alone: ${BACKLOG_EVENTS} events for S2, no other traffic`);
    const stopWatching = watch('slow alone');
    let slowAloneSeconds: number;
    try {
      slowAloneSeconds = await drainSeconds('slow alone', slowAlone, await commitBacklog(slowAlone, BACKLOG_EVENTS));
    } finally {
      stopWatching();
    }
    await settle('after slow alone');

    const rss = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${worker.pid}/status`, 'utf8'));
    const noisy = [...hangPhase.sorted, ...slowPhase.sorted].sort((a, b) => a - b);
    const p = (latencies: PhaseLatencies, at: number) => percentile(latencies.sorted, at);
    const slowDrain = BACKLOG_EVENTS / slowSeconds;
    const slowAloneDrain = BACKLOG_EVENTS / slowAloneSeconds;
    const slowAloneIdeal = CONCURRENCY / (SLOW_MS / 1_000);
    console.log(
      JSON.stringify({
        healthy_p50_ms: ms(percentile(noisy, 50)),
        healthy_p99_ms: ms(percentile(noisy, 99)),
        alone_p99_ms: ms(p(alone, 99)),
        hang_p99_ms: ms(p(hangPhase, 99)),
        slow_p99_ms: ms(p(slowPhase, 99)),
        slow_drain_per_s: Math.round(slowDrain),
        slow_alone_drain_per_s: Math.round(slowAloneDrain),
        alone_p50_ms: ms(p(alone, 50)),
        hang_p50_ms: ms(p(hangPhase, 50)),
        slow_p50_ms: ms(p(slowPhase, 50)),
        worker_concurrency: CONCURRENCY,
        targets_met: {
          hang_p99_under_100_ms: p(hangPhase, 99) < 100,
          slow_p99_under_100_ms: p(slowPhase, 99) < 100,
          hang_p99_within_alone_plus_50_ms: p(hangPhase, 99) <= p(alone, 99) + 50,
          slow_p99_within_alone_plus_50_ms: p(slowPhase, 99) <= p(alone, 99) + 50,
          slow_drain_at_least_0_8_of_alone: slowDrain >= 0.8 * slowAloneDrain,
          slow_alone_drain_at_least_0_8_of_ideal: slowAloneDrain >= 0.8 * slowAloneIdeal,
        },
        alone_missing: alone.missing,
        hang_missing: hangPhase.missing,
        slow_missing: slowPhase.missing,
        hang_attempts: hangAttempts,
        slow_drain_ratio: round(slowDrain / slowAloneDrain, 3),
        slow_alone_target_per_s: Math.round(0.8 * slowAloneIdeal),
        healthy_rate: HEALTHY_RATE,
        phase_seconds: PHASE_SECONDS,
        backlog_events: BACKLOG_EVENTS,
        timeout_ms: TIMEOUT_MS,
        arrival_deadline_s: ARRIVAL_DEADLINE_MS / 1_000,
        worker_rss_mb: rss ? Math.round(Number(rss[1]) / 1024) : null,
      }),
    );
  } finally {
    if (worker) await stopProcess(worker);
    await stopProcess(api);
    await committer.end().catch(() => undefined);
    await monitor.end().catch(() => undefined);
    await bulk.end().catch(() => undefined);
    await http.close();
    receiver.kill();
    await db.drop();
    await dropQueueKeys(prefix);
  }
}

/** The receivers' arrivals (seq to epoch ms, accumulated) and counts, fetched over IPC on demand. */
class ReceiverProbe {
  readonly arrivals = new Map<string, number>();
  counts: ReceiverReport['counts'] = {
    healthy: { received: 0, open: 0 },
    hang: { received: 0, open: 0 },
    slow: { received: 0, open: 0 },
    slow2: { received: 0, open: 0 },
  };
  private pending: Promise<void> | null = null;

  constructor(private readonly child: ChildProcess) {}

  /** One report in flight at a time: a caller arriving meanwhile shares it. */
  collect(): Promise<void> {
    this.pending ??= new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.off('message', onMessage);
        reject(new Error(`the receiver process did not report within 10 s (exit code ${this.child.exitCode ?? 'none'})`));
      }, 10_000);
      const onMessage = (message: unknown) => {
        clearTimeout(timer);
        const report = message as ReceiverReport;
        for (const [seq, at] of report.arrivals) this.arrivals.set(seq, at);
        this.counts = report.counts;
        resolve();
      };
      this.child.once('message', onMessage);
      this.child.send('report');
    }).finally(() => {
      this.pending = null;
    });
    return this.pending;
  }
}

main().catch((error: Error) => {
  console.error(`bench:isolation failed: ${error.message}`);
  process.exit(1);
});
