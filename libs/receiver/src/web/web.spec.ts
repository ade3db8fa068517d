import { createWebhookHandler, readRequestBody, verifyWebhookRequest } from './index.js';
import { generateWebhookSecret, signWebhook } from '../testing/index.js';
import type { VerifiedWebhook } from '../core/verify.js';

function makeSut(respond: (webhook: VerifiedWebhook) => Response | void | Promise<Response | void> = () => undefined) {
  const secret = generateWebhookSecret();
  const seen: VerifiedWebhook[] = [];
  const sut = createWebhookHandler({
    secret,
    onError: () => undefined,
    handler: (webhook) => {
      seen.push(webhook);
      return respond(webhook);
    },
  });
  return { sut, secret, seen };
}

const toRequest = (d: { headers: Record<string, string>; body: string }) =>
  new Request('http://localhost/api/webhooks', { method: 'POST', headers: d.headers, body: d.body });

describe(createWebhookHandler.name, () => {
  it('answers 204 after handing over a verified delivery, and 200 duplicate to the retry', async () => {
    const { sut, secret, seen } = makeSut();
    const d = signWebhook({ secret });

    const first = await sut(toRequest(d));
    const retry = await sut(toRequest(d));

    expect(first.status).toBe(204);
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({ status: 'duplicate', event_id: d.event.id });
    expect(seen.map((w) => w.event)).toEqual([d.event]);
  });

  it('answers 401 with the error body to a forged delivery', async () => {
    const { sut, seen } = makeSut();

    const response = await sut(toRequest(signWebhook({ secret: generateWebhookSecret() })));

    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_signature');
    expect(seen).toHaveLength(0);
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

  it('answers 500 with a hint when the body was already read', async () => {
    const { sut, secret } = makeSut();
    const request = toRequest(signWebhook({ secret }));
    await request.text();

    const response = await sut(request);

    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: { hint: string } }).error.hint).toContain('request.clone()');
  });
});

describe(readRequestBody.name, () => {
  it('stops reading a streamed body at the limit', async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(1024));
      },
    });
    const request = new Request('http://localhost/', { method: 'POST', body, duplex: 'half' } as RequestInit);

    await expect(readRequestBody(request, 4096)).rejects.toMatchObject({ code: 'payload_too_large' });
    expect(pulled).toBeLessThan(10);
  });
});

describe(verifyWebhookRequest.name, () => {
  it('verifies a Request without idempotency', async () => {
    const secret = generateWebhookSecret();
    const d = signWebhook({ secret });

    const webhook = await verifyWebhookRequest(toRequest(d), { secret });

    expect(webhook.event).toEqual(d.event);
  });
});
