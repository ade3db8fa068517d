import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Module, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import Fastify from 'fastify';
import type ExpressModule from 'express';
import { apifyCloudWebhook } from '../src/express/index.js';
import { apifyCloudWebhookPlugin } from '../src/fastify/index.js';
import { ApifyCloudWebhook, ApifyCloudWebhookModule, WebhookEvent } from '../src/nestjs/index.js';
import * as portableWeb from '../src/web/index.js';
import * as nodeWeb from '../src/web/node.js';
import { generateWebhookSecret, signWebhook, type SignedWebhook } from '../src/testing/index.js';
import type { ApifyCloudWebhookEvent, WebhookReceiverOptions } from '../src/index.js';
import { HandlerProbe } from './support/probe.js';

type Express = typeof ExpressModule;

const express4 = require('express4') as Express;

const express5 = require('express') as Express;

/**
 * The same delivery scenarios on every adapter, over real HTTP with a client that behaves like the
 * platform's worker: it gives up after its timeout and retries the same event as the next attempt.
 */
interface Running {
  url: string;
  close(): Promise<void>;
}
type Start = (probe: HandlerProbe, options: WebhookReceiverOptions) => Promise<Running>;

function listen(server: Server): Promise<Running> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/webhooks`,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

const startExpress =
  (express: Express): Start =>
  async (probe, options) => {
    const app = express();
    app.post('/webhooks', apifyCloudWebhook(options), (req, res, next) => {
      probe.handle(req.body as ApifyCloudWebhookEvent).then((outcome) => {
        if (outcome === 'throw') return next(new Error('handler failed'));
        res.status(200).json({ ok: true });
      }, next);
    });
    return listen(createServer(app));
  };

const startFastify: Start = async (probe, options) => {
  const app = Fastify({ forceCloseConnections: true });
  await app.register(apifyCloudWebhookPlugin, {
    ...options,
    path: '/webhooks',
    handler: async (webhook) => {
      if ((await probe.handle(webhook.event)) === 'throw') throw new Error('handler failed');
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/webhooks`, close: () => app.close() };
};

let nestProbe: HandlerProbe;

@Controller('webhooks')
class NestWebhooksController {
  @Post()
  @ApifyCloudWebhook()
  async receive(@WebhookEvent() event: ApifyCloudWebhookEvent): Promise<{ ok: true }> {
    if ((await nestProbe.handle(event)) === 'throw') throw new Error('handler failed');
    return { ok: true };
  }
}

const startNest =
  (platform: 'express' | 'fastify'): Start =>
  async (probe, options) => {
    nestProbe = probe;
    @Module({ imports: [ApifyCloudWebhookModule.forRoot(options)], controllers: [NestWebhooksController] })
    class AppModule {}
    const settings = { logger: false as const, rawBody: true };
    const app: INestApplication =
      platform === 'express' ? await NestFactory.create(AppModule, settings) : await NestFactory.create(AppModule, new FastifyAdapter(), settings);
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/webhooks`, close: () => app.close() };
  };

/**
 * The Fetch handler served by a plain Node server, the way Next.js, Hono or Bun would call it: from
 * the Node build of /web (node:crypto receiver) and from the portable one (WebCrypto receiver, what
 * Workers and Deno load).
 */
const startWeb =
  (web: typeof portableWeb): Start =>
  async (probe, options) => {
    const handle = web.createWebhookHandler({
      ...options,
      handler: async (webhook) => {
        if ((await probe.handle(webhook.event)) === 'throw') throw new Error('handler failed');
      },
    });
    const server = createServer((req, res) => {
      void (async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const headers = Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === 'string');
        let response: Response;
        try {
          response = await handle(new Request(`http://localhost${req.url}`, { method: req.method, headers, body: Buffer.concat(chunks) }));
        } catch {
          response = new Response(null, { status: 500 });
        }
        res.writeHead(response.status, Object.fromEntries(response.headers));
        res.end(Buffer.from(await response.arrayBuffer()));
      })();
    });
    return listen(server);
  };

const ADAPTERS: Array<[string, Start]> = [
  ['Express 4 middleware', startExpress(express4)],
  ['Express 5 middleware', startExpress(express5)],
  ['Fastify plugin', startFastify],
  ['NestJS on Express', startNest('express')],
  ['NestJS on Fastify', startNest('fastify')],
  ['Web (Fetch API) handler, Node build', startWeb(nodeWeb)],
  ['Web (Fetch API) handler, WebCrypto build', startWeb(portableWeb)],
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(ADAPTERS)('%s: one delivery, one handler run', (_name, start) => {
  let running: Running | undefined;
  let probe: HandlerProbe;
  let secret: string;

  async function setup(options: Partial<WebhookReceiverOptions> = {}): Promise<void> {
    probe = new HandlerProbe();
    secret = generateWebhookSecret();
    running = await start(probe, { secret, onError: () => undefined, ...options });
  }

  afterEach(async () => {
    probe?.release();
    const server = running;
    running = undefined;
    await server?.close();
  });

  /** One attempt as the platform's worker sends it; `timeoutMs` makes it give up like the worker does. */
  async function send(d: Pick<SignedWebhook, 'headers' | 'body'>, options: { timeoutMs?: number; headers?: Record<string, string> } = {}) {
    const response = await fetch(running!.url, {
      method: 'POST',
      headers: { ...d.headers, ...options.headers },
      body: d.body,
      signal: options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs),
    });
    return { status: response.status, body: await response.text() };
  }

  /** Retries like the platform (a new attempt of the same event) until the answer is not 409. */
  async function retryUntilSettled(base: { id: string; subscriptionId: string }, firstAttempt: number) {
    for (let attempt = firstAttempt; attempt < firstAttempt + 100; attempt++) {
      const answer = await send(signWebhook({ secret, ...base, attempt }));
      if (answer.status !== 409) return answer;
      await sleep(20);
    }
    throw new Error('still 409 after 100 retries');
  }

  it('keeps a slow handler whose client gave up in flight (409 to the retry) and answers the later retry 2xx without running it again', async () => {
    // A short TTL that the slow handler outlives: the claim must be extended while it runs.
    await setup({ inFlightTtlMs: 300 });
    const base = { id: `evt_${Date.now()}`, subscriptionId: 'sub_slow' };
    probe.hold();

    await expect(send(signWebhook({ secret, ...base, attempt: 1 }), { timeoutMs: 150 })).rejects.toThrow();
    await probe.entered(1);
    await sleep(500);
    const whileRunning = await send(signWebhook({ secret, ...base, attempt: 2 }));
    probe.release();
    const afterwards = await retryUntilSettled(base, 3);

    expect(whileRunning.status).toBe(409);
    expect(JSON.parse(whileRunning.body)).toMatchObject({ error: { code: 'delivery_in_progress' } });
    expect(afterwards.status).toBeGreaterThanOrEqual(200);
    expect(afterwards.status).toBeLessThan(300);
    expect(probe.events).toHaveLength(1);
  });

  it('releases the key when the slow handler fails after its client gave up, so the retry runs it', async () => {
    await setup();
    const base = { id: `evt_${Date.now()}`, subscriptionId: 'sub_fail' };
    probe.hold();
    probe.failNext = 'throw';

    await expect(send(signWebhook({ secret, ...base, attempt: 1 }), { timeoutMs: 100 })).rejects.toThrow();
    await probe.entered(1);
    probe.release();
    const retry = await retryUntilSettled(base, 2);

    expect(retry.status).toBeGreaterThanOrEqual(200);
    expect(retry.status).toBeLessThan(300);
    expect(probe.events).toHaveLength(2);
  });

  it('answers captured bytes replayed with another X-ApifyCloud-Delivery 400 header_mismatch without running the handler again', async () => {
    await setup();
    const d = signWebhook({ secret, subscriptionId: 'sub_1' });

    const original = await send(d);
    const replayed = await send(d, { headers: { 'X-ApifyCloud-Delivery': 'other:1' } });
    const otherEventId = await send(d, { headers: { 'X-ApifyCloud-Event-Id': 'evt_other' } });

    expect(original.status).toBeLessThan(300);
    expect(replayed.status).toBe(400);
    expect(JSON.parse(replayed.body)).toMatchObject({ error: { code: 'header_mismatch' } });
    expect(otherEventId.status).toBe(400);
    expect(probe.events).toHaveLength(1);
  });

  it('answers captured bytes replayed with another delivery header 400 while the original still runs', async () => {
    await setup();
    const d = signWebhook({ secret, subscriptionId: 'sub_1' });
    probe.hold();

    const original = send(d);
    await probe.entered(1);
    const replayed = await send(d, { headers: { 'X-ApifyCloud-Delivery': 'other:1' } });
    probe.release();

    expect(replayed.status).toBe(400);
    expect((await original).status).toBeLessThan(300);
    expect(probe.events).toHaveLength(1);
  });
});
