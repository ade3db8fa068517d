/** Shared pieces of the benchmarks: a throwaway database, a spawned process, latency statistics. */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
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
  const child = spawn(process.execPath, [...nodeArgs, join(__dirname, '..', script)], { env: { ...process.env, ...env }, stdio: ['ignore', process.env.BENCH_VERBOSE ? 'inherit' : 'ignore', 'inherit'] });
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
export async function runConcurrent(total: number, concurrency: number, task: (i: number) => Promise<void>, label: string): Promise<{ seconds: number; latencies: number[] }> {
  const latencies: number[] = new Array(total);
  let next = 0;
  let done = 0;
  const started = process.hrtime.bigint();
  const reporter = setInterval(() => progress(`${label}: ${done}/${total}`), 2_000);
  try {
    await Promise.all(Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t0 = process.hrtime.bigint();
        await task(i);
        latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
        done++;
      }
    }));
  } finally {
    clearInterval(reporter);
  }
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, latencies: latencies.sort((a, b) => a - b) };
}
