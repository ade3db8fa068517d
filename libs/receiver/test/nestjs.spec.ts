import 'reflect-metadata';
import { Controller, HttpException, Module, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { apifyCloudWebhookErrorHandler } from '../src/express/index.js';
import request from 'supertest';
import { ApifyCloudWebhook, ApifyCloudWebhookModule, Webhook, WebhookEvent } from '../src/nestjs/index.js';
import { generateWebhookSecret, signWebhook, type SignedWebhook } from '../src/testing/index.js';
import type { ApifyCloudWebhookEvent, VerifiedWebhook } from '../src/index.js';
import { HandlerProbe } from './support/probe.js';

// One probe per app under test; the controller is a plain Nest class, so it reaches it through this binding.
let probe: HandlerProbe;
let secret: string;

@Controller('webhooks')
class WebhooksController {
  @Post('apifycloud')
  @ApifyCloudWebhook()
  async receive(@WebhookEvent() event: ApifyCloudWebhookEvent, @Webhook() webhook: VerifiedWebhook): Promise<{ received: string }> {
    if (webhook.eventId !== event.id) throw new Error('@Webhook() and @WebhookEvent() disagree');
    const outcome = await probe.handle(event);
    if (outcome === 'throw') throw new Error('handler failed');
    if (outcome === 503) throw new HttpException('busy', 503);
    return { received: event.id };
  }

  @Post('other')
  other(): { ok: true } {
    return { ok: true };
  }
}

function appModule() {
  @Module({
    imports: [ApifyCloudWebhookModule.forRootAsync({ useFactory: () => ({ secret, onError: () => undefined }) })],
    controllers: [WebhooksController],
  })
  class AppModule {}
  return AppModule;
}

type AdapterName = 'express' | 'fastify';

async function createApp(adapter: AdapterName, options: { rawBody?: boolean; bodyParser?: boolean } = {}): Promise<INestApplication> {
  const settings = { logger: false as const, rawBody: options.rawBody ?? true, bodyParser: options.bodyParser ?? true };
  const app = adapter === 'express'
    ? await NestFactory.create(appModule(), settings)
    : await NestFactory.create(appModule(), new FastifyAdapter(), settings);
  await app.listen(0, '127.0.0.1');
  return app;
}

describe.each<AdapterName>(['express', 'fastify'])('NestJS on the %s adapter', (adapter) => {
  let app: INestApplication | undefined;

  beforeEach(() => {
    probe = new HandlerProbe();
    secret = generateWebhookSecret();
  });

  afterEach(async () => {
    probe.release();
    const running = app;
    app = undefined;
    await running?.close();
  });

  const post = (d: Pick<SignedWebhook, 'headers' | 'body'>) => request(app!.getHttpServer()).post('/webhooks/apifycloud').set(d.headers).send(d.body);

  it('verifies the delivery and hands the typed event to the handler', async () => {
    app = await createApp(adapter);
    const d = signWebhook({ secret, event: 'scheduled.no_show' });

    const response = await post(d);

    expect(app.getHttpAdapter().getType()).toBe(adapter);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ received: d.event.id });
    expect(probe.events).toEqual([d.event]);
  });

  it('answers 401 to a forged delivery without calling the handler', async () => {
    app = await createApp(adapter);

    const response = await post(signWebhook({ secret: generateWebhookSecret() }));

    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('invalid_signature');
    expect(probe.events).toHaveLength(0);
  });

  it('answers 500 with the rawBody fix when Nest parsed the body without keeping it', async () => {
    app = await createApp(adapter, { rawBody: false });

    const response = await post(signWebhook({ secret })).timeout(5000);

    expect(response.status).toBe(500);
    expect(response.body.error.code).toBe('raw_body_unavailable');
    expect(response.body.error.hint).toContain('rawBody: true');
    expect(probe.events).toHaveLength(0);
  });

  it('answers 409 to a duplicate racing the original, then 200 duplicate, running the handler once', async () => {
    app = await createApp(adapter);
    const d = signWebhook({ secret });
    probe.hold();

    const original = post(d).then((r) => r);
    await probe.entered(1);
    const racing = await post(d);
    probe.release();
    const first = await original;
    const later = await post(d);

    expect(racing.status).toBe(409);
    expect(Number(racing.headers['retry-after'])).toBeGreaterThan(0);
    expect(first.status).toBe(200);
    expect(later.status).toBe(200);
    expect(later.body).toEqual({ status: 'duplicate', event_id: d.event.id });
    expect(probe.events).toHaveLength(1);
  });

  it('releases the key when the handler throws, so the retry runs it again', async () => {
    app = await createApp(adapter);
    const d = signWebhook({ secret });

    probe.failNext = 'throw';
    await post(d).expect(500);
    probe.failNext = 503;
    await post(d).expect(503);
    await post(d).expect(200);

    expect(probe.events).toHaveLength(3);
  });

  it('leaves routes without the decorator alone', async () => {
    app = await createApp(adapter);

    await request(app.getHttpServer()).post('/webhooks/other').send({ a: 1 }).expect(201);
  });
});

describe('NestJS on the express adapter with bodyParser off', () => {
  it('reads the unconsumed stream itself', async () => {
    probe = new HandlerProbe();
    secret = generateWebhookSecret();
    const app = await createApp('express', { rawBody: false, bodyParser: false });
    try {
      const d = signWebhook({ secret });

      await request(app.getHttpServer()).post('/webhooks/apifycloud').set(d.headers).send(d.body).expect(200);

      expect(probe.events).toEqual([d.event]);
    } finally {
      await app.close();
    }
  });
});

describe(ApifyCloudWebhookModule.name, () => {
  it('fails at boot, not at the first delivery, when the secret is missing', () => {
    expect(() => ApifyCloudWebhookModule.forRoot({ secret: process.env.SURELY_NOT_SET_APIFYCLOUD_SECRET })).toThrow(/no webhook secret/);
  });
});

describe('NestJS body limit', () => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("answers the Express body parser's own 413 as payload_too_large with a hint (useBodyParser limit + apifyCloudWebhookErrorHandler)", async () => {
    probe = new HandlerProbe();
    secret = generateWebhookSecret();
    const nest = await NestFactory.create<NestExpressApplication>(appModule(), { logger: false, rawBody: true });
    nest.useBodyParser('json', { limit: 2048 });
    nest.use(apifyCloudWebhookErrorHandler());
    await nest.listen(0, '127.0.0.1');
    app = nest;
    const d = signWebhook({ secret, scheduledCall: { metadata: { notes: 'x'.repeat(4096) } } });

    const response = await request(nest.getHttpServer()).post('/webhooks/apifycloud').set(d.headers).send(d.body);

    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('payload_too_large');
    expect(probe.events).toHaveLength(0);
  });
});
