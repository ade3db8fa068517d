import 'reflect-metadata';
import { Controller, HttpException, Inject, Injectable, Module, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { apifyCloudWebhookErrorHandler } from '../src/express/index.js';
import request from 'supertest';
import {
  APIFYCLOUD_WEBHOOK_RECEIVER,
  ApifyCloudPayloadTooLargeFilter,
  ApifyCloudWebhook,
  ApifyCloudWebhookModule,
  Webhook,
  WebhookEvent,
} from '../src/nestjs/index.js';
import { generateWebhookSecret, signWebhook, type SignedWebhook } from '../src/testing/index.js';
import type { ApifyCloudWebhookEvent, VerifiedWebhook, WebhookReceiver, WebhookRouter } from '../src/index.js';
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
  const app = adapter === 'express' ? await NestFactory.create(appModule(), settings) : await NestFactory.create(appModule(), new FastifyAdapter(), settings);
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

  it.each<AdapterName>(['express', 'fastify'])(
    "answers the %s adapter's parser 413 as payload_too_large with a hint through ApifyCloudPayloadTooLargeFilter, other errors untouched",
    async (adapter) => {
      probe = new HandlerProbe();
      secret = generateWebhookSecret();
      const settings = { logger: false as const, rawBody: true };
      const nest =
        adapter === 'express'
          ? await NestFactory.create<NestExpressApplication>(appModule(), settings)
          : await NestFactory.create(appModule(), new FastifyAdapter({ bodyLimit: 2048 }), settings);
      if (adapter === 'express') (nest as NestExpressApplication).useBodyParser('json', { limit: 2048 });
      nest.useGlobalFilters(new ApifyCloudPayloadTooLargeFilter());
      await nest.listen(0, '127.0.0.1');
      app = nest;
      const big = signWebhook({ secret, scheduledCall: { metadata: { notes: 'x'.repeat(4096) } } });
      const small = signWebhook({ secret });

      const tooLarge = await request(nest.getHttpServer()).post('/webhooks/apifycloud').set(big.headers).send(big.body);
      const tampered = await request(nest.getHttpServer())
        .post('/webhooks/apifycloud')
        .set(small.headers)
        .send(small.body.replace('"attempt":1', '"attempt":2'));

      expect(tooLarge.status).toBe(413);
      expect(tooLarge.headers['content-type']).toMatch(/^application\/json/);
      expect(tooLarge.body.error).toMatchObject({ code: 'payload_too_large', hint: expect.stringContaining('maxBodyBytes') });
      expect(tampered.status).toBe(401);
      expect(probe.events).toHaveLength(0);
    },
  );
});

/**
 * Routing through the NestJS adapter, as routing.spec.ts does for the others: routes registered on
 * the module's receiver (injected with APIFYCLOUD_WEBHOOK_RECEIVER) by a provider, and a controller
 * that hands the verified webhook to `receiver.router()`. The guard verifies, the interceptor claims
 * the key and settles it with the controller's outcome.
 */
const routing = { seen: [] as string[], errors: [] as string[], failuresLeft: 0 };

@Injectable()
class BookingWebhookRoutes {
  constructor(@Inject(APIFYCLOUD_WEBHOOK_RECEIVER) receiver: WebhookReceiver) {
    receiver
      .on('scheduled.cancelled', (event) => {
        routing.seen.push(`cancelled ${event.payload.scheduled_call.cancelled_at}`);
        if (routing.failuresLeft > 0) {
          routing.failuresLeft -= 1;
          throw new Error('route failed');
        }
      })
      .onAny((event) => {
        routing.seen.push(`any ${event.event}`);
      })
      .onError((error, event) => {
        routing.errors.push(`${event.id}: ${(error as Error).message}`);
      });
  }
}

@Controller('routed')
class RoutedWebhooksController {
  private readonly route: WebhookRouter;

  constructor(@Inject(APIFYCLOUD_WEBHOOK_RECEIVER) receiver: WebhookReceiver) {
    this.route = receiver.router();
  }

  @Post()
  @ApifyCloudWebhook()
  async receive(@Webhook() webhook: VerifiedWebhook): Promise<{ routed: string }> {
    await this.route(webhook);
    return { routed: webhook.eventId };
  }
}

describe.each<AdapterName>(['express', 'fastify'])('NestJS routing on the %s adapter (receiver.on / router())', (adapter) => {
  let app: INestApplication | undefined;

  beforeEach(async () => {
    secret = generateWebhookSecret();
    routing.seen = [];
    routing.errors = [];
    routing.failuresLeft = 0;
    @Module({
      imports: [ApifyCloudWebhookModule.forRoot({ secret, onError: () => undefined })],
      controllers: [RoutedWebhooksController],
      providers: [BookingWebhookRoutes],
    })
    class RoutedAppModule {}
    const settings = { logger: false as const, rawBody: true };
    app =
      adapter === 'express' ? await NestFactory.create(RoutedAppModule, settings) : await NestFactory.create(RoutedAppModule, new FastifyAdapter(), settings);
    await app.listen(0, '127.0.0.1');
  });

  afterEach(async () => {
    const running = app;
    app = undefined;
    await running?.close();
  });

  const post = (d: Pick<SignedWebhook, 'headers' | 'body'>) => request(app!.getHttpServer()).post('/routed').set(d.headers).send(d.body);

  it('runs the routes of the event type, then onAny, with the typed event', async () => {
    const cancelled = signWebhook({ secret, event: 'scheduled.cancelled' });
    const confirmed = signWebhook({ secret, event: 'scheduled.confirmed' });

    const first = await post(cancelled);
    const second = await post(confirmed);

    expect(app!.getHttpAdapter().getType()).toBe(adapter);
    expect([first.status, first.body]).toEqual([200, { routed: cancelled.event.id }]);
    expect(second.status).toBe(200);
    expect(routing.seen).toEqual([`cancelled ${cancelled.event.payload.scheduled_call.cancelled_at}`, 'any scheduled.cancelled', 'any scheduled.confirmed']);
  });

  it('answers a throwing route non-2xx and releases the key, so the retry runs it; then 200 duplicate', async () => {
    const base = { secret, event: 'scheduled.cancelled' as const, id: `evt_${Date.now()}`, subscriptionId: 'sub_routed' };
    const cancelledAt = signWebhook(base).event.payload.scheduled_call.cancelled_at;
    routing.failuresLeft = 1;

    const failed = await post(signWebhook({ ...base, attempt: 1 }));
    const retry = await post(signWebhook({ ...base, attempt: 2 }));
    const duplicate = await post(signWebhook({ ...base, attempt: 3 }));

    expect(failed.status).toBe(500);
    expect(retry.status).toBe(200);
    expect(duplicate.status).toBe(200);
    expect(duplicate.body).toEqual({ status: 'duplicate', event_id: base.id });
    expect(routing.seen).toEqual([`cancelled ${cancelledAt}`, `cancelled ${cancelledAt}`, 'any scheduled.cancelled']);
    expect(routing.errors).toEqual([`${base.id}: route failed`]);
  });

  it('answers a forged delivery 401 without running any route', async () => {
    const response = await post(signWebhook({ secret: generateWebhookSecret(), event: 'scheduled.cancelled' }));

    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('invalid_signature');
    expect(routing.seen).toEqual([]);
  });
});
