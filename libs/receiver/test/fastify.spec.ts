import Fastify, { type FastifyInstance } from 'fastify';
import request from 'supertest';
import { apifyCloudWebhookPlugin, getWebhook } from '../src/fastify/index.js';
import { generateWebhookSecret, signWebhook, type SignedWebhook } from '../src/testing/index.js';
import { HandlerProbe } from './support/probe.js';

describe('Fastify 5 plugin', () => {
  let app: FastifyInstance | undefined;
  let probe: HandlerProbe;
  let secret: string;

  async function start(options: { maxBodyBytes?: number } = {}): Promise<FastifyInstance> {
    probe = new HandlerProbe();
    secret = generateWebhookSecret();
    const fastify = Fastify();
    await fastify.register(apifyCloudWebhookPlugin, {
      prefix: '/webhooks',
      path: '/apifycloud',
      secret,
      maxBodyBytes: options.maxBodyBytes,
      onError: () => undefined,
      handler: async (webhook, request, reply) => {
        if (getWebhook(request) !== webhook) throw new Error('getWebhook(request) disagrees with the handler argument');
        const outcome = await probe.handle(webhook.event);
        if (outcome === 'throw') throw new Error('handler failed');
        if (outcome === 503) return reply.code(503).send({ busy: true });
        return undefined;
      },
    });
    fastify.post('/other', async (request) => ({ echo: request.body }));
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    app = fastify;
    return fastify;
  }

  afterEach(async () => {
    probe?.release();
    const running = app;
    app = undefined;
    await running?.close();
  });

  const post = (d: Pick<SignedWebhook, 'headers' | 'body'>) => request(app!.server).post('/webhooks/apifycloud').set(d.headers).send(d.body);

  it('answers 204 after handing the verified event to the handler, and leaves JSON parsing of other routes alone', async () => {
    await start();
    const d = signWebhook({ secret, event: 'scheduled.rescheduled' });

    const response = await post(d);
    const other = await request(app!.server).post('/other').send({ a: 1 });

    expect(response.status).toBe(204);
    expect(probe.events).toEqual([d.event]);
    expect(other.body).toEqual({ echo: { a: 1 } });
  });

  it('works with fastify.inject and the testing helper', async () => {
    const fastify = await start();
    const d = signWebhook({ secret });

    const response = await fastify.inject({ method: 'POST', url: '/webhooks/apifycloud', headers: d.headers, payload: d.payload });
    const duplicate = await fastify.inject({ method: 'POST', url: '/webhooks/apifycloud', headers: d.headers, payload: d.payload });

    expect(response.statusCode).toBe(204);
    expect(duplicate.statusCode).toBe(200);
    expect(duplicate.json()).toEqual({ status: 'duplicate', event_id: d.event.id });
  });

  it('answers 401 to a forged delivery without calling the handler', async () => {
    await start();

    const response = await post(signWebhook({ secret: generateWebhookSecret() }));

    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('invalid_signature');
    expect(probe.events).toHaveLength(0);
  });

  it('answers 409 to a duplicate racing the original, then 200 duplicate, running the handler once', async () => {
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
    expect(racing.headers['retry-after']).toBeDefined();
    expect(first.status).toBe(204);
    expect(later.status).toBe(200);
    expect(probe.events).toHaveLength(1);
  });

  it('releases the key when the handler throws or answers 5xx, so retries run it again', async () => {
    await start();
    const d = signWebhook({ secret });

    probe.failNext = 'throw';
    await post(d).expect(500);
    probe.failNext = 503;
    await post(d).expect(503);
    await post(d).expect(204);

    expect(probe.events).toHaveLength(3);
  });

  it('answers 413 in its own error format to a body over the limit', async () => {
    await start({ maxBodyBytes: 2048 });
    const d = signWebhook({ secret, scheduledCall: { metadata: { notes: 'x'.repeat(4096) } } });

    const response = await post(d);

    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('payload_too_large');
  });

  it('refuses to register without a handler', async () => {
    const fastify = Fastify();

    await expect(fastify.register(apifyCloudWebhookPlugin, { secret: generateWebhookSecret() } as never)).rejects.toThrow(/handler/);
    await fastify.close();
  });
});
