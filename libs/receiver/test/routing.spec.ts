import request from 'supertest';
import express from 'express';
import Fastify from 'fastify';
import { WebhookReceiver, type ApifyCloudWebhookEvent } from '../src/index.js';
import { apifyCloudWebhook, routeWebhook } from '../src/express/index.js';
import { apifyCloudWebhookPlugin } from '../src/fastify/index.js';
import { createWebhookHandler } from '../src/web/index.js';
import { generateWebhookSecret, signBody, signWebhook, type SignedWebhook } from '../src/testing/index.js';

/** Signs `mutate(event)` as the platform would, to send shapes the helper never produces. */
function resign(secret: string, d: SignedWebhook, mutate: (event: Record<string, any>) => void): { body: string; headers: Record<string, string> } {
  const event = JSON.parse(d.body) as Record<string, any>;
  mutate(event);
  const body = JSON.stringify(event);
  const headers = { ...d.headers };
  for (const name of Object.keys(headers)) if (name.toLowerCase() === 'x-apifycloud-signature') headers[name] = signBody(body, secret);
  return { body, headers };
}

function routedReceiver(secret: string) {
  const seen: string[] = [];
  const receiver = new WebhookReceiver({ secret, onError: () => undefined });
  receiver
    .on('scheduled.cancelled', (event) => {
      seen.push(`cancelled ${event.payload.scheduled_call.cancelled_at}`);
    })
    .on('scheduled.confirmed', (event) => {
      seen.push(`confirmed ${event.payload.scheduled_call.confirmed_at}`);
    })
    .onAny((event) => {
      seen.push(`any ${event.event}`);
    });
  return { receiver, seen };
}

describe('receiver routing (core)', () => {
  const secret = generateWebhookSecret();

  it('runs the routes of the event type, then onAny, with the typed event', async () => {
    const { receiver, seen } = routedReceiver(secret);
    const d = signWebhook({ secret, event: 'scheduled.cancelled', scheduledCall: { cancelled_at: '2030-01-02T00:00:00.000Z' } });

    await receiver.router()(receiver.verify(d.rawBody, d.headers));

    expect(seen).toEqual(['cancelled 2030-01-02T00:00:00.000Z', 'any scheduled.cancelled']);
  });

  it('runs only onAny for a type without routes', async () => {
    const { receiver, seen } = routedReceiver(secret);
    const d = signWebhook({ secret, event: 'scheduled.no_show' });

    await receiver.dispatch(receiver.verify(d.rawBody, d.headers));

    expect(seen).toEqual(['any scheduled.no_show']);
  });

  it('calls onError with the event and still rejects, so the delivery fails and is retried', async () => {
    const receiver = new WebhookReceiver({ secret });
    const failure = new Error('db down');
    const errors: Array<[unknown, string]> = [];
    receiver
      .on('scheduled.created', () => {
        throw failure;
      })
      .onError((error, event) => {
        errors.push([error, event.id]);
      });
    const d = signWebhook({ secret });

    await expect(receiver.dispatch(receiver.verify(d.rawBody, d.headers))).rejects.toBe(failure);

    expect(errors).toEqual([[failure, d.event.id]]);
  });

  it('refuses an unknown event type and a non-function handler', () => {
    const receiver = new WebhookReceiver({ secret });

    expect(() => receiver.on('scheduled.deleted' as never, () => undefined)).toThrow(TypeError);
    expect(() => receiver.on('scheduled.created', undefined as never)).toThrow(TypeError);
  });
});

describe('payload shape (after verification)', () => {
  const secret = generateWebhookSecret();
  const receiver = new WebhookReceiver({ secret, idempotency: false, onError: () => undefined });

  it.each<[string, SignedWebhook, (event: Record<string, any>) => void, string]>([
    [
      'scheduled_call is an array',
      signWebhook({ secret }),
      (e) => {
        e.payload.scheduled_call = [];
      },
      'payload.scheduled_call must be an object, got array.',
    ],
    [
      'the id is missing',
      signWebhook({ secret }),
      (e) => {
        delete e.payload.scheduled_call.id;
      },
      'payload.scheduled_call.id is missing.',
    ],
    [
      'a field has the wrong type',
      signWebhook({ secret }),
      (e) => {
        e.payload.scheduled_call.version = '3';
      },
      'payload.scheduled_call.version must be number, got string.',
    ],
    [
      'the guest has no email',
      signWebhook({ secret }),
      (e) => {
        delete e.payload.scheduled_call.guest.email;
      },
      'payload.scheduled_call.guest.email is missing.',
    ],
    [
      'reschedule_reason is missing',
      signWebhook({ secret }),
      (e) => {
        delete e.payload.scheduled_call.reschedule_reason;
      },
      'payload.scheduled_call.reschedule_reason is missing.',
    ],
    [
      'the status is not one the event leaves',
      signWebhook({ secret, event: 'scheduled.cancelled' }),
      (e) => {
        e.payload.scheduled_call.status = 'confirmed';
      },
      'payload.scheduled_call.status "confirmed" is not one a scheduled.cancelled event leaves (cancelled).',
    ],
    [
      "the event's timestamp is not set",
      signWebhook({ secret, event: 'scheduled.cancelled' }),
      (e) => {
        e.payload.scheduled_call.cancelled_at = null;
      },
      'payload.scheduled_call.cancelled_at must be set on a scheduled.cancelled event.',
    ],
  ])('answers 400 invalid_payload when %s', async (_name, d, mutate, message) => {
    const { body, headers } = resign(secret, d, mutate);

    const outcome = await receiver.receive(body, headers);

    expect(outcome).toMatchObject({ action: 'respond', status: 400, body: { error: { code: 'invalid_payload', message } } });
  });

  it('accepts a record without an agent and with extra fields', async () => {
    const { body, headers } = resign(secret, signWebhook({ secret }), (e) => {
      e.payload.scheduled_call.agent = null;
      e.payload.scheduled_call.added_later = 1;
    });

    const outcome = await receiver.receive(body, headers);

    expect(outcome.action).toBe('handle');
  });
});

describe('routing through the adapters', () => {
  const secret = generateWebhookSecret();

  it('Express: routeWebhook() runs the routes and answers 204', async () => {
    const { receiver, seen } = routedReceiver(secret);
    const app = express();
    app.post('/webhooks', apifyCloudWebhook(receiver), routeWebhook(receiver));
    const d = signWebhook({ secret, event: 'scheduled.confirmed' });

    const response = await request(app).post('/webhooks').set(d.headers).send(d.body);

    expect(response.status).toBe(204);
    expect(seen).toEqual([`confirmed ${d.event.payload.scheduled_call.confirmed_at}`, 'any scheduled.confirmed']);
  });

  it('Express: a throwing route answers 500 and the retry runs it again', async () => {
    const receiver = new WebhookReceiver({ secret, onError: () => undefined });
    let calls = 0;
    receiver.on('scheduled.created', () => {
      calls += 1;
      if (calls === 1) throw new Error('first attempt fails');
    });
    const app = express();
    app.post('/webhooks', apifyCloudWebhook(receiver), routeWebhook(receiver));
    app.use((_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).end();
    });
    const d = signWebhook({ secret });

    const first = await request(app).post('/webhooks').set(d.headers).send(d.body);
    const second = await request(app).post('/webhooks').set(d.headers).send(d.body);

    expect([first.status, second.status, calls]).toEqual([500, 204, 2]);
  });

  it('Express: a wrong shape answers 400 invalid_payload before any route', async () => {
    const { receiver, seen } = routedReceiver(secret);
    const app = express();
    app.post('/webhooks', apifyCloudWebhook(receiver), routeWebhook(receiver));
    const { body, headers } = resign(secret, signWebhook({ secret }), (e) => {
      e.payload.scheduled_call = [];
    });

    const response = await request(app).post('/webhooks').set(headers).send(body);

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_payload');
    expect(seen).toEqual([]);
  });

  it('Fetch API: handler: receiver.router() runs the routes and answers 204', async () => {
    const { receiver, seen } = routedReceiver(secret);
    const handle = createWebhookHandler({ receiver, handler: receiver.router() });
    const d = signWebhook({ secret, event: 'scheduled.cancelled' });

    const response = await handle(new Request('https://example.test/webhooks', { method: 'POST', headers: d.headers, body: d.body }));

    expect(response.status).toBe(204);
    expect(seen).toEqual([`cancelled ${d.event.payload.scheduled_call.cancelled_at}`, 'any scheduled.cancelled']);
  });

  it('Fastify: handler: receiver.router() runs the routes and answers 204', async () => {
    const { receiver, seen } = routedReceiver(secret);
    const app = Fastify();
    await app.register(apifyCloudWebhookPlugin, { path: '/webhooks', receiver, handler: receiver.router() });
    const d = signWebhook({ secret, event: 'scheduled.confirmed' });

    const response = await app.inject({ method: 'POST', url: '/webhooks', headers: d.headers, payload: d.payload });
    await app.close();

    expect(response.statusCode).toBe(204);
    expect(seen).toHaveLength(2);
  });

  it('keeps the plain handler API: the event still reaches a handler without routes', async () => {
    const receiver = new WebhookReceiver({ secret });
    const events: ApifyCloudWebhookEvent[] = [];
    const handle = createWebhookHandler({
      receiver,
      handler: (webhook) => {
        events.push(webhook.event);
      },
    });
    const d = signWebhook({ secret });

    const response = await handle(new Request('https://example.test/webhooks', { method: 'POST', headers: d.headers, body: d.body }));

    expect([response.status, events[0]?.id]).toEqual([204, d.event.id]);
  });
});
