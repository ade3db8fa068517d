import * as portable from './index.js';
import * as node from './node.js';
import { WebCryptoWebhookReceiver } from './webcrypto-receiver.js';
import { WebhookReceiver } from '../core/receiver.js';
import { generateWebhookSecret, signWebhook } from '../testing/index.js';
import type { WebVerifiedWebhook } from '../core/types.js';

const toRequest = (d: { headers: Record<string, string>; body: string }) =>
  new Request('http://localhost/api/webhooks', { method: 'POST', headers: d.headers, body: d.body });

describe('the two builds of /web', () => {
  it('export the same names (node.ts only swaps the receiver it creates)', () => {
    expect(Object.keys(node).sort()).toEqual(Object.keys(portable).sort());
  });

  it('create a node:crypto receiver on Node and a WebCrypto one in the portable build', () => {
    const secret = generateWebhookSecret();

    expect(node.createWebhookReceiver({ secret })).toBeInstanceOf(WebhookReceiver);
    expect(portable.createWebhookReceiver({ secret })).toBeInstanceOf(WebCryptoWebhookReceiver);
  });

  it('return a receiver they are given, whichever kind it is', () => {
    const secret = generateWebhookSecret();
    const nodeReceiver = new WebhookReceiver({ secret });
    const webCryptoReceiver = new WebCryptoWebhookReceiver({ secret });

    expect(portable.createWebhookReceiver(nodeReceiver)).toBe(nodeReceiver);
    expect(node.createWebhookReceiver(webCryptoReceiver)).toBe(webCryptoReceiver);
  });
});

describe.each([
  ['portable (WebCrypto) build', portable],
  ['Node build', node],
])('createWebhookHandler, %s', (_name, web) => {
  function makeSut(respond: (webhook: WebVerifiedWebhook) => Response | void | Promise<Response | void> = () => undefined) {
    const secret = generateWebhookSecret();
    const seen: WebVerifiedWebhook[] = [];
    const sut = web.createWebhookHandler({
      secret,
      onError: () => undefined,
      handler: (webhook) => {
        seen.push(webhook);
        return respond(webhook);
      },
    });
    return { sut, secret, seen };
  }

  it('answers 204 after handing over a verified delivery, and 200 duplicate to the retry', async () => {
    const { sut, secret, seen } = makeSut();
    const d = signWebhook({ secret });

    const first = await sut(toRequest(d));
    const retry = await sut(toRequest(d));

    expect(first.status).toBe(204);
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({ status: 'duplicate', event_id: d.event.id });
    expect(seen.map((w) => w.event)).toEqual([d.event]);
    expect(seen[0]!.toJSON()).toMatchObject({ eventId: d.event.id, idempotencyKey: d.idempotencyKey, deliveredAt: d.event.deliveredAt });
    expect(new TextDecoder().decode(seen[0]!.rawBody)).toBe(d.body);
  });

  it('answers 401 with the error body to a forged delivery', async () => {
    const { sut, seen } = makeSut();

    const response = await sut(toRequest(signWebhook({ secret: generateWebhookSecret() })));

    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_signature');
    expect(seen).toHaveLength(0);
  });

  it('answers 409 with Retry-After to a duplicate while the handler still runs', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { sut, secret } = makeSut(() => gate);
    const d = signWebhook({ secret });

    const original = sut(toRequest(d));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const racing = await sut(toRequest(d));
    release();

    expect(racing.status).toBe(409);
    expect(Number(racing.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await original).status).toBe(204);
  });

  it('releases the key when the handler answers non-2xx or throws', async () => {
    let mode: 'fail' | 'throw' | 'ok' = 'fail';
    const { sut, secret, seen } = makeSut(() => {
      if (mode === 'throw') throw new Error('boom');
      return new Response(null, { status: mode === 'fail' ? 500 : 200 });
    });
    const d = signWebhook({ secret });

    expect((await sut(toRequest(d))).status).toBe(500);
    mode = 'throw';
    await expect(sut(toRequest(d))).rejects.toThrow('boom');
    mode = 'ok';
    expect((await sut(toRequest(d))).status).toBe(200);
    expect(seen).toHaveLength(3);
  });

  it('answers 400 invalid_payload to a signed body of the wrong shape', async () => {
    const { sut, secret, seen } = makeSut();
    const d = signWebhook({ secret });
    const body = d.body.replace(/"scheduled_call":\{.*\}\}$/, '"scheduled_call":[]}}');
    const { signBody } = await import('../testing/index.js');
    const headers = { ...d.headers, 'X-ApifyCloud-Signature': signBody(body, secret) };

    const response = await sut(toRequest({ headers, body }));

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'invalid_payload', message: 'payload.scheduled_call must be an object, got array.' } });
    expect(seen).toHaveLength(0);
  });

  it('answers 500 with a hint when the body was already read', async () => {
    const { sut, secret } = makeSut();
    const request = toRequest(signWebhook({ secret }));
    await request.text();

    const response = await sut(request);

    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: { hint: string } }).error.hint).toContain('request.clone()');
  });

  it('runs the routes of a shared receiver, a root-entry WebhookReceiver included', async () => {
    const secret = generateWebhookSecret();
    const seen: string[] = [];
    const receiver = new WebhookReceiver({ secret }).on('scheduled.cancelled', (event) => {
      seen.push(event.payload.scheduled_call.cancelled_at);
    });
    const sut = web.createWebhookHandler({ receiver, handler: receiver.router() });
    const d = signWebhook({ secret, event: 'scheduled.cancelled' });

    const first = await sut(toRequest(d));
    const again = await sut(toRequest(d));

    expect([first.status, again.status]).toEqual([204, 200]);
    expect(seen).toEqual([d.event.payload.scheduled_call.cancelled_at]);
  });

  it('verifies a Request without idempotency (verifyWebhookRequest)', async () => {
    const secret = generateWebhookSecret();
    const options = { secret };
    const d = signWebhook({ secret });

    const webhook = await web.verifyWebhookRequest(toRequest(d), options);
    const again = await web.verifyWebhookRequest(toRequest(d), options);

    expect(webhook.event).toEqual(d.event);
    expect(again.idempotencyKey).toBe(d.idempotencyKey);
  });
});

describe('readRequestBody', () => {
  it('stops reading a streamed body at the limit', async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(1024));
      },
    });
    const request = new Request('http://localhost/', { method: 'POST', body, duplex: 'half' } as RequestInit);

    await expect(portable.readRequestBody(request, 4096)).rejects.toMatchObject({ code: 'payload_too_large' });
    expect(pulled).toBeLessThan(10);
  });

  it('joins a body that arrives in several chunks', async () => {
    const parts = ['{"a":', '1,"b":', '"c"}'];
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const part of parts) controller.enqueue(new TextEncoder().encode(part));
        controller.close();
      },
    });
    const request = new Request('http://localhost/', { method: 'POST', body, duplex: 'half' } as RequestInit);

    expect(new TextDecoder().decode(await portable.readRequestBody(request, 4096))).toBe(parts.join(''));
  });
});
