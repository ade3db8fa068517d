import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis, { type RedisOptions } from 'ioredis';
import { RedisIdempotencyStore } from '../src/idempotency/redis-store.js';
import { createWebhookHandler } from '../src/web/index.js';
import { generateWebhookSecret, signWebhook } from '../src/testing/index.js';
import type { WebhookReceiverOptions } from '../src/index.js';

/**
 * The store going away under a running receiver. This file starts and kills its own redis-server on a
 * free port with no persistence; the shared Redis on 6379 is never touched.
 */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startRedis(): Promise<{ port: number; child: ChildProcess; dir: string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'receiver-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  // Ready once it accepts connections.
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { port, child, dir };
}

const STORE_TIMEOUT_MS = 300;

describe('RedisIdempotencyStore when Redis stops', () => {
  let redis: { port: number; child: ChildProcess; dir: string };
  const clients: Redis[] = [];

  beforeEach(async () => {
    redis = await startRedis();
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.disconnect();
    if (redis.child.exitCode === null) redis.child.kill('SIGKILL');
    rmSync(redis.dir, { recursive: true, force: true });
  });

  function handlerFor(clientOptions: RedisOptions, options: Partial<WebhookReceiverOptions>) {
    const client = new Redis({ port: redis.port, host: '127.0.0.1', ...clientOptions });
    clients.push(client);
    const secret = generateWebhookSecret();
    const handled: string[] = [];
    const handle = createWebhookHandler({
      secret,
      idempotency: new RedisIdempotencyStore({ client, keyPrefix: `test:receiver:outage:${process.pid}:` }),
      storeTimeoutMs: STORE_TIMEOUT_MS,
      onError: () => undefined,
      ...options,
      handler: (webhook) => {
        handled.push(webhook.eventId);
      },
    });
    const deliver = async () => {
      const d = signWebhook({ secret });
      const started = Date.now();
      const response = await handle(new Request('http://localhost/webhooks', { method: 'POST', headers: d.headers, body: d.body }));
      return { status: response.status, body: await response.text(), elapsedMs: Date.now() - started };
    };
    const ready = client.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => client.once('ready', () => resolve()));
    return { deliver, handled, ready };
  }

  async function killRedis(): Promise<void> {
    const exited = new Promise((resolve) => redis.child.once('exit', resolve));
    redis.child.kill('SIGKILL');
    await exited;
  }

  // ioredis defaults queue commands while reconnecting, so without storeTimeoutMs a delivery would wait
  // for its reconnection attempts: the timeout is what bounds the answer.
  it('answers 503 within about storeTimeoutMs with fail-closed, even with ioredis defaults that queue commands', async () => {
    const { deliver, handled } = handlerFor({}, { onStoreError: 'fail-closed' });
    expect((await deliver()).status).toBe(204);

    await killRedis();
    const answer = await deliver();

    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'idempotency_store_unavailable' } });
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(STORE_TIMEOUT_MS - 20);
    expect(answer.elapsedMs).toBeLessThan(STORE_TIMEOUT_MS + 700);
    expect(handled).toHaveLength(1);
  });

  it('runs the handler without deduplication within about storeTimeoutMs with fail-open', async () => {
    const { deliver, handled } = handlerFor({}, { onStoreError: 'fail-open' });
    expect((await deliver()).status).toBe(204);

    await killRedis();
    const answer = await deliver();

    expect(answer.status).toBe(204);
    expect(answer.elapsedMs).toBeLessThan(2 * STORE_TIMEOUT_MS + 700);
    expect(handled).toHaveLength(2);
  });

  it('fails fast, before storeTimeoutMs, with the fail-fast ioredis settings the README recommends', async () => {
    const { deliver, ready } = handlerFor({ enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 1000 }, { onStoreError: 'fail-closed' });
    await ready;
    expect((await deliver()).status).toBe(204);

    await killRedis();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const answer = await deliver();

    expect(answer.status).toBe(503);
    expect(answer.elapsedMs).toBeLessThan(STORE_TIMEOUT_MS);
  });
});
