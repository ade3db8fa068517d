import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import request from 'supertest';
import type ExpressModule from 'express';
import { apifyCloudWebhook, apifyCloudWebhookErrorHandler, captureRawBody, getWebhook } from '../src/express/index.js';
import { generateWebhookSecret, signWebhook } from '../src/testing/index.js';
import type { ApifyCloudWebhookEvent } from '../src/index.js';
import { HandlerProbe } from './support/probe.js';

type Express = typeof ExpressModule;
// Express 4 is installed under an npm alias so both majors are tested side by side.

const express4 = require('express4') as Express;

const express5 = require('express') as Express;

interface Setup {
  globalJson?: 'plain' | 'captureRawBody';
  routeParser?: 'raw';
  maxBodyBytes?: number;
  jsonLimit?: number;
}

describe.each([
  ['Express 4', express4, '4.'],
  ['Express 5', express5, '5.'],
])('%s', (_name, express, major) => {
  let server: Server | undefined;
  let probe: HandlerProbe;
  let secret: string;

  async function start(setup: Setup = {}): Promise<Server> {
    probe = new HandlerProbe();
    secret = generateWebhookSecret();
    const app = express();
    if (setup.globalJson === 'plain') app.use(express.json());
    if (setup.globalJson === 'captureRawBody') app.use(express.json({ verify: captureRawBody, limit: setup.jsonLimit ?? 1024 * 1024 }));
    const parsers = setup.routeParser === 'raw' ? [express.raw({ type: 'application/json' })] : [];
    app.post('/webhooks', ...parsers, apifyCloudWebhook({ secret, maxBodyBytes: setup.maxBodyBytes, onError: () => undefined }), (req, res, next) => {
      const event = req.body as ApifyCloudWebhookEvent;
      if (getWebhook(req).eventId !== event.id) throw new Error('getWebhook disagrees with req.body');
      // Express 4 does not catch rejected promises: forward errors to next() as its users must.
      probe.handle(event).then((outcome) => {
        if (outcome === 'throw') return next(new Error('handler failed'));
        res.status(outcome === 503 ? 503 : 200).json({ received: event.id });
      }, next);
    });
    app.post('/other', (req, res) => res.json({ echo: req.body }));
    app.use(apifyCloudWebhookErrorHandler());
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    return server;
  }

  afterEach(async () => {
    probe?.release();
    const running = server;
    server = undefined;
    if (running) await new Promise((resolve) => running.close(resolve));
  });

  const post = (d: { headers: Record<string, string>; body: string }) => request(server!).post('/webhooks').set(d.headers).send(d.body);

  it('runs against the intended Express major', () => {
    expect((express as unknown as { application: unknown }).application).toBeDefined();

    expect(require(major === '4.' ? 'express4/package.json' : 'express/package.json').version.startsWith(major)).toBe(true);
  });

  it('hands the verified, typed event to the handler as req.body', async () => {
    await start();
    const d = signWebhook({ secret, event: 'scheduled.confirmed' });

    const response = await post(d);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ received: d.event.id });
    expect(probe.events).toEqual([d.event]);
  });

  it('answers 401 to a forged delivery without calling the handler', async () => {
    await start();
    const d = signWebhook({ secret: generateWebhookSecret() });

    const response = await post(d);

    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('invalid_signature');
    expect(probe.events).toHaveLength(0);
  });

  it('fails at once with a fix-it hint when a global express.json() consumed the body', async () => {
    await start({ globalJson: 'plain' });
    const d = signWebhook({ secret });

    const response = await post(d).timeout(5000);

    expect(response.status).toBe(500);
    expect(response.body.error.code).toBe('raw_body_unavailable');
    expect(response.body.error.hint).toContain('express.json({ verify: captureRawBody })');
    expect(probe.events).toHaveLength(0);
  });

  it('verifies behind a global express.json() that keeps the bytes with captureRawBody, leaving other routes parsed', async () => {
    await start({ globalJson: 'captureRawBody' });
    const d = signWebhook({ secret });

    const response = await post(d);
    const other = await request(server!).post('/other').send({ a: 1 });

    expect(response.status).toBe(200);
    expect(probe.events).toEqual([d.event]);
    expect(other.body).toEqual({ echo: { a: 1 } });
  });

  it('verifies the Buffer left by express.raw()', async () => {
    await start({ routeParser: 'raw' });
    const d = signWebhook({ secret });

    await post(d).expect(200);
  });

  it('answers a completed duplicate 200 without running the handler again', async () => {
    await start();
    const d = signWebhook({ secret });
    await post(d).expect(200);
    const retry = signWebhook({ secret, id: d.event.id, subscriptionId: d.idempotencyKey.split(':')[0], attempt: 2 });

    const response = await post(retry);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'duplicate', event_id: d.event.id });
    expect(probe.events).toHaveLength(1);
  });

  it('answers 409 with Retry-After to a duplicate racing the original, and runs the handler once', async () => {
    await start();
    const d = signWebhook({ secret });
    probe.hold();

    const original = post(d).then((r) => r);
    await probe.entered(1);
    const racing = await post(d);
    probe.release();
    const first = await original;
    const later = await post(d);

    expect(racing.status).toBe(409);
    expect(racing.body.error.code).toBe('delivery_in_progress');
    expect(Number(racing.headers['retry-after'])).toBeGreaterThan(0);
    expect(first.status).toBe(200);
    expect(later.status).toBe(200);
    expect(later.body.status).toBe('duplicate');
    expect(probe.events).toHaveLength(1);
  });

  it('releases the key when the handler fails, so the retry runs it again', async () => {
    await start();
    const d = signWebhook({ secret });
    probe.failNext = 'throw';

    const failed = await post(d);
    const retried = await post(d);

    expect(failed.status).toBe(500);
    expect(retried.status).toBe(200);
    expect(probe.events).toHaveLength(2);
  });

  it('releases the key when the handler answers 5xx', async () => {
    await start();
    const d = signWebhook({ secret });
    probe.failNext = 503;

    await post(d).expect(503);
    await post(d).expect(200);

    expect(probe.events).toHaveLength(2);
  });

  it('answers 413 to a body over the limit, declared or streamed', async () => {
    await start({ maxBodyBytes: 2048 });
    const d = signWebhook({ secret, scheduledCall: { metadata: { notes: 'x'.repeat(4096) } } });
    const { port } = server!.address() as AddressInfo;

    const declared = await post(d);
    const streamed = await fetch(`http://127.0.0.1:${port}/webhooks`, {
      method: 'POST',
      headers: d.headers,
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(d.rawBody);
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);

    expect(declared.status).toBe(413);
    expect(streamed.status).toBe(413);
    expect(((await streamed.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    expect(probe.events).toHaveLength(0);
  });

  it("answers the body parser's own 413 as payload_too_large with a hint on raising the limit", async () => {
    await start({ globalJson: 'captureRawBody', jsonLimit: 2048 });
    const d = signWebhook({ secret, scheduledCall: { metadata: { notes: 'x'.repeat(4096) } } });

    const response = await post(d);

    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('payload_too_large');
    expect(response.body.error.hint).toContain('limit');
    expect(probe.events).toHaveLength(0);
  });

  it('answers 401 to a replay older than the window', async () => {
    await start();
    const d = signWebhook({ secret, deliveredAt: new Date(Date.now() - 10 * 60_000) });

    const response = await post(d);

    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('stale_delivery');
  });
});
