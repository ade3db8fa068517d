import { createWebhookReceiver, WebhookReceiver, type WebhookReceiverOptions, type WebhookToHandle } from './receiver.js';
import { MemoryIdempotencyStore } from '../idempotency/memory-store.js';
import type { IdempotencyStore } from '../idempotency/store.js';
import { generateWebhookSecret, signBody, signWebhook } from '../testing/index.js';

function makeSut(options: Partial<WebhookReceiverOptions> = {}) {
  const secret = generateWebhookSecret();
  const errors: unknown[] = [];
  const sut = new WebhookReceiver({ secret, onError: (error) => errors.push(error), ...options });
  return { sut, secret, errors };
}

function expectHandle(outcome: Awaited<ReturnType<WebhookReceiver['receive']>>): WebhookToHandle {
  if (outcome.action !== 'handle') throw new Error(`expected handle, got ${outcome.status} ${JSON.stringify(outcome.body)}`);
  return outcome;
}

const brokenStore: IdempotencyStore = {
  claim: () => Promise.reject(new Error('ECONNREFUSED')),
  complete: () => Promise.reject(new Error('ECONNREFUSED')),
  release: () => Promise.reject(new Error('ECONNREFUSED')),
};

describe(WebhookReceiver.name, () => {
  it('hands a first delivery to the handler with its decoded event', async () => {
    const { sut, secret } = makeSut();
    const d = signWebhook({ secret });

    const outcome = expectHandle(await sut.receive(d.rawBody, d.headers));

    expect(outcome.webhook.event).toEqual(d.event);
  });

  it('answers a completed duplicate 200 without handing it over again', async () => {
    const { sut, secret } = makeSut();
    const d = signWebhook({ secret });
    await expectHandle(await sut.receive(d.rawBody, d.headers)).settle(true);
    const retry = signWebhook({ secret, id: d.event.id, subscriptionId: d.idempotencyKey.split(':')[0], attempt: 2 });

    const outcome = await sut.receive(retry.rawBody, retry.headers);

    expect(outcome).toMatchObject({ action: 'respond', status: 200, body: { status: 'duplicate', event_id: d.event.id } });
  });

  it('answers 409 with Retry-After while the same event is still being handled', async () => {
    const { sut, secret } = makeSut({ inFlightTtlMs: 30_000 });
    const d = signWebhook({ secret });
    expectHandle(await sut.receive(d.rawBody, d.headers));

    const outcome = await sut.receive(d.rawBody, d.headers);

    expect(outcome).toMatchObject({ action: 'respond', status: 409, headers: { 'retry-after': '30' } });
  });

  it('runs the handler again for the retry after a failure released the key', async () => {
    const { sut, secret } = makeSut();
    const d = signWebhook({ secret });
    await expectHandle(await sut.receive(d.rawBody, d.headers)).settle(false);

    expectHandle(await sut.receive(d.rawBody, d.headers));
  });

  it('treats the same event for two subscriptions as two deliveries', async () => {
    const { sut, secret } = makeSut();
    const a = signWebhook({ secret, id: 'evt_1', subscriptionId: 'sub_a' });
    const b = signWebhook({ secret, id: 'evt_1', subscriptionId: 'sub_b' });
    await expectHandle(await sut.receive(a.rawBody, a.headers)).settle(true);

    expectHandle(await sut.receive(b.rawBody, b.headers));
  });

  it('never claims a key for a delivery that fails verification', async () => {
    const store = new MemoryIdempotencyStore();
    const { sut, secret } = makeSut({ idempotency: store });
    const d = signWebhook({ secret });

    const forged = await sut.receive(d.rawBody, { ...d.headers, 'X-ApifyCloud-Signature': signBody(d.body, generateWebhookSecret()) });

    expect(forged).toMatchObject({ action: 'respond', status: 401, body: { error: { code: 'invalid_signature' } } });
    expect(store.size).toBe(0);
  });

  it('answers 503 when the store fails and onStoreError is fail-closed (the default)', async () => {
    const { sut, secret, errors } = makeSut({ idempotency: brokenStore });
    const d = signWebhook({ secret });

    const outcome = await sut.receive(d.rawBody, d.headers);

    expect(outcome).toMatchObject({ action: 'respond', status: 503, body: { error: { code: 'idempotency_store_unavailable' } } });
    expect(errors.length).toBeGreaterThan(0);
  });

  it('runs the handler without deduplication when the store fails and onStoreError is fail-open', async () => {
    const { sut, secret } = makeSut({ idempotency: brokenStore, onStoreError: 'fail-open' });
    const d = signWebhook({ secret });

    const outcome = expectHandle(await sut.receive(d.rawBody, d.headers));

    await expect(outcome.settle(true)).resolves.toBeUndefined();
  });

  it('reports, without throwing, a store that fails to complete', async () => {
    const store = new MemoryIdempotencyStore();
    const { sut, secret, errors } = makeSut({ idempotency: { ...brokenStore, claim: (k, t) => store.claim(k, t) } });
    const d = signWebhook({ secret });

    await expectHandle(await sut.receive(d.rawBody, d.headers)).settle(true);

    expect(errors).toHaveLength(1);
  });

  it('hands every duplicate over when idempotency is off', async () => {
    const { sut, secret } = makeSut({ idempotency: false });
    const d = signWebhook({ secret });
    await expectHandle(await sut.receive(d.rawBody, d.headers)).settle(true);

    expectHandle(await sut.receive(d.rawBody, d.headers));
  });

  it('acknowledges a signed event of an unknown type with 202 by default', async () => {
    const { sut, secret } = makeSut();
    const body = JSON.stringify({ id: 'e', event: 'scheduled.teleported', deliveredAt: new Date().toISOString(), attempt: 1, payload: { scheduled_call: {} } });
    const headers = { 'X-ApifyCloud-Signature': signBody(body, secret), 'X-ApifyCloud-Delivery': 's:1' };

    await expect(sut.receive(body, headers)).resolves.toMatchObject({ action: 'respond', status: 202 });
    const strict = new WebhookReceiver({ secret, unknownEvents: 'reject' });
    await expect(strict.receive(body, headers)).resolves.toMatchObject({ action: 'respond', status: 422, body: { error: { code: 'unknown_event' } } });
  });

  it('answers 500 and reports an unexpected error', async () => {
    const { sut, errors } = makeSut();

    const answer = sut.reject(new Error('boom'));

    expect(answer.status).toBe(500);
    expect(errors).toHaveLength(1);
  });

  it('refuses an unknown onStoreError value at construction', () => {
    expect(() => makeSut({ onStoreError: 'fail-sideways' as never })).toThrow(TypeError);
  });

  describe('store timeouts', () => {
    /** A store whose calls hang until the test lets them answer, like Redis behind a dead connection. */
    function hangingStore() {
      const inner = new MemoryIdempotencyStore();
      const waiting: Array<() => void> = [];
      const later = <T>(fn: () => Promise<T>) => new Promise<T>((resolve, reject) => waiting.push(() => void fn().then(resolve, reject)));
      const store: IdempotencyStore = {
        claim: (key, ttl) => later(() => inner.claim(key, ttl)),
        complete: (key, token, ttl) => later(() => inner.complete(key, token, ttl)),
        release: (key, token) => later(() => inner.release(key, token)),
      };
      return { store, inner, answerAll: () => waiting.splice(0).forEach((go) => go()) };
    }

    it('answers 503 idempotency_store_unavailable within storeTimeoutMs when the store hangs (fail-closed)', async () => {
      const { store } = hangingStore();
      const { sut, secret, errors } = makeSut({ idempotency: store, storeTimeoutMs: 50 });
      const d = signWebhook({ secret });
      const started = Date.now();

      const outcome = await sut.receive(d.rawBody, d.headers);

      expect(Date.now() - started).toBeLessThan(1000);
      expect(outcome).toMatchObject({ action: 'respond', status: 503, body: { error: { code: 'idempotency_store_unavailable' } } });
      expect(errors[0]).toMatchObject({ name: 'StoreTimeoutError' });
    });

    it('runs the handler without deduplication when the store hangs and onStoreError is fail-open', async () => {
      const { store } = hangingStore();
      const { sut, secret } = makeSut({ idempotency: store, storeTimeoutMs: 50, onStoreError: 'fail-open' });
      const d = signWebhook({ secret });

      const outcome = expectHandle(await sut.receive(d.rawBody, d.headers));

      await expect(outcome.settle(true)).resolves.toBeUndefined();
    });

    it('gives back a claim that lands after its timeout, so the retry is not blocked by 409', async () => {
      const { store, inner, answerAll } = hangingStore();
      const { sut, secret } = makeSut({ idempotency: store, storeTimeoutMs: 50 });
      const d = signWebhook({ secret });
      await sut.receive(d.rawBody, d.headers);

      answerAll();
      await new Promise((resolve) => setTimeout(resolve, 10));
      answerAll();
      await new Promise((resolve) => setTimeout(resolve, 10));

      await expect(inner.claim(d.idempotencyKey, 60_000)).resolves.toMatchObject({ state: 'claimed' });
    });

    it('does not wait longer than storeTimeoutMs for complete or release', async () => {
      const { store, answerAll } = hangingStore();
      const { sut, secret, errors } = makeSut({ idempotency: store, storeTimeoutMs: 50 });
      const d = signWebhook({ secret });
      const claimed = sut.receive(d.rawBody, d.headers);
      answerAll();
      const outcome = expectHandle(await claimed);
      const started = Date.now();

      await outcome.settle(true);

      expect(Date.now() - started).toBeLessThan(1000);
      expect(errors).toHaveLength(1);
    });

    it('refuses a non-positive storeTimeoutMs or inFlightTtlMs', () => {
      expect(() => makeSut({ storeTimeoutMs: 0 })).toThrow(TypeError);
      expect(() => makeSut({ inFlightTtlMs: -1 })).toThrow(TypeError);
    });
  });

  /** A store the receiver cannot tell from a remote one (Redis and the like): timeouts and the extension timer apply. */
  function remoteLike(inner = new MemoryIdempotencyStore()): IdempotencyStore & { extended: number } {
    const store = {
      extended: 0,
      claim: (key: string, ttl: number) => inner.claim(key, ttl),
      complete: (key: string, token: string, ttl: number) => inner.complete(key, token, ttl),
      release: (key: string, token: string) => inner.release(key, token),
      extend: (key: string, token: string, ttl: number) => {
        store.extended += 1;
        return inner.extend(key, token, ttl);
      },
    };
    return store;
  }

  it('extends the claim of a remote store every third of inFlightTtlMs while the handler runs, and stops once it settles', async () => {
    const store = remoteLike();
    const { sut, secret } = makeSut({ idempotency: store, inFlightTtlMs: 60 });
    const d = signWebhook({ secret });
    const outcome = expectHandle(await sut.receive(d.rawBody, d.headers));

    await new Promise((resolve) => setTimeout(resolve, 200));
    const whileRunning = await sut.receive(d.rawBody, d.headers);
    await outcome.settle(false);
    const extendedWhileRunning = store.extended;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const afterRelease = await sut.receive(d.rawBody, d.headers);

    expect(whileRunning).toMatchObject({ action: 'respond', status: 409 });
    expect(extendedWhileRunning).toBeGreaterThanOrEqual(3);
    expect(afterRelease.action).toBe('handle');
    if (afterRelease.action === 'handle') await afterRelease.settle(true);
    expect(store.extended).toBe(extendedWhileRunning);
  });

  it('holds a memory-store claim until the handler settles, however long past inFlightTtlMs, without timers', async () => {
    const store = new MemoryIdempotencyStore();
    const { sut, secret } = makeSut({ idempotency: store, inFlightTtlMs: 60 });
    const d = signWebhook({ secret });
    const timers = [jest.spyOn(globalThis, 'setInterval'), jest.spyOn(globalThis, 'setTimeout')];
    try {
      const outcome = expectHandle(await sut.receive(d.rawBody, d.headers));
      await outcome.settle(true);
      expect(timers.map((timer) => timer.mock.calls.length)).toEqual([0, 0]);
    } finally {
      for (const timer of timers) timer.mockRestore();
    }

    const slow = signWebhook({ secret });
    const held = expectHandle(await sut.receive(slow.rawBody, slow.headers));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const whileRunning = await sut.receive(slow.rawBody, slow.headers);
    await held.settle(false);
    const afterRelease = await sut.receive(slow.rawBody, slow.headers);

    expect(whileRunning).toMatchObject({ action: 'respond', status: 409, headers: { 'retry-after': '1' } });
    expect(afterRelease.action).toBe('handle');
    if (afterRelease.action === 'handle') await afterRelease.settle(true);
  });
});

describe('createWebhookReceiver across builds', () => {
  it('accepts a receiver made by the other build (branded, not instanceof) as it is', () => {
    const other = { [Symbol.for('@apifycloud/webhook-receiver/WebhookReceiver')]: true, handle: () => undefined };
    expect(createWebhookReceiver(other as never)).toBe(other);
  });

  it('refuses a WebCrypto receiver with an error that says why, rather than reading it as options without a secret', () => {
    const webCrypto = { [Symbol.for('@apifycloud/webhook-receiver/WebhookReceiverBase')]: true };
    expect(() => createWebhookReceiver(webCrypto as never)).toThrow(/WebCryptoWebhookReceiver only works with createWebhookHandler/);
  });
});
