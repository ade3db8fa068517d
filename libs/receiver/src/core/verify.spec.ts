import { WebhookError, type WebhookErrorCode } from './errors.js';
import { WebhookVerifier, verifyWebhook, type VerifyOptions } from './verify.js';
import { generateWebhookSecret, signBody, signWebhook } from '../testing/index.js';

const NOW = Date.parse('2030-01-15T13:00:00.000Z');

function makeSut(options: Partial<VerifyOptions> & { secret?: string | readonly string[] } = {}) {
  const secret = generateWebhookSecret();
  const sut = new WebhookVerifier({ secret, now: () => NOW, ...options });
  return { sut, secret };
}

function expectCode(fn: () => unknown, code: WebhookErrorCode): WebhookError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(WebhookError);
  expect((thrown as WebhookError).code).toBe(code);
  return thrown as WebhookError;
}

describe(WebhookVerifier.name, () => {
  describe('fixed vector', () => {
    // Computed independently: openssl dgst -sha256 -hmac '<secret>' body.json
    const secret = 'whsec_dGVzdC1zZWNyZXQtZm9yLXZlY3RvcnM';
    const body =
      '{"id":"evt_1","event":"scheduled.created","deliveredAt":"2030-01-15T13:00:00.000Z","attempt":1,"payload":{"scheduled_call":{"id":"call_1","status":"scheduled","version":1}}}';
    const signature = 'sha256=5223161a21e979fd2dd1f787703f7d987e7cc231705a645af4ab0f2e0ae08a27';
    const headers = { 'x-apifycloud-signature': signature, 'x-apifycloud-delivery': 'sub_1:1' };

    it('accepts the signature computed over the UTF-8 bytes of the whole secret, prefix included', () => {
      const sut = new WebhookVerifier({ secret, now: () => NOW });

      const webhook = sut.verify(Buffer.from(body), headers);

      expect(webhook.eventId).toBe('evt_1');
      expect(webhook.idempotencyKey).toBe('sub_1:evt_1');
      expect(webhook.signature).toEqual({ secretIndex: 0, header: 'current' });
      // Authentic, but the vector's record is not a whole booking record: decoding rejects its shape.
      expect(() => webhook.event).toThrow(expect.objectContaining({ code: 'invalid_payload', message: 'payload.scheduled_call.app_id is missing.' }));
    });

    it('matches what the testing helper signs', () => {
      expect(signBody(body, secret)).toBe(signature);
    });

    it('accepts uppercase hex', () => {
      const sut = new WebhookVerifier({ secret, now: () => NOW });

      const webhook = sut.verify(body, { ...headers, 'x-apifycloud-signature': 'sha256=' + signature.slice(7).toUpperCase() });

      expect(webhook.eventId).toBe('evt_1');
    });
  });

  it('returns the typed event, delivery fields and idempotency key of a valid delivery', () => {
    const { sut, secret } = makeSut();
    const d = signWebhook({
      secret,
      event: 'scheduled.cancelled',
      deliveredAt: new Date(NOW - 1000),
      attempt: 3,
      subscriptionId: 'sub:with:colons',
      id: 'evt_9',
    });

    const webhook = sut.verify(d.rawBody, d.headers);

    expect(webhook.eventType).toBe('scheduled.cancelled');
    expect(webhook.attempt).toBe(3);
    expect(webhook.subscriptionId).toBe('sub:with:colons');
    expect(webhook.idempotencyKey).toBe('sub:with:colons:evt_9');
    expect(webhook.deliveredAt.getTime()).toBe(NOW - 1000);
    expect(webhook.rawBody.equals(d.rawBody)).toBe(true);
    expect(webhook.event).toEqual(d.event);
    const event = webhook.event;
    if (event.event === 'scheduled.cancelled') expect(event.payload.scheduled_call.status).toBe('cancelled');
  });

  it('rejects a body with one byte changed', () => {
    const { sut, secret } = makeSut();
    const d = signWebhook({ secret, deliveredAt: new Date(NOW) });
    const tampered = Buffer.from(d.rawBody);
    const index = tampered.indexOf('Ada');
    tampered[index] = 'E'.charCodeAt(0);

    expectCode(() => sut.verify(tampered, d.headers), 'invalid_signature');
  });

  it('rejects a delivery signed with another secret', () => {
    const { sut } = makeSut();
    const d = signWebhook({ secret: generateWebhookSecret(), deliveredAt: new Date(NOW) });

    const error = expectCode(() => sut.verify(d.rawBody, d.headers), 'invalid_signature');
    expect(error.status).toBe(401);
    expect(error.hint).toMatch(/rotation/);
  });

  it('accepts any configured secret during a rotation and says which one matched', () => {
    const oldSecret = generateWebhookSecret();
    const newSecret = generateWebhookSecret();
    const { sut } = makeSut({ secret: [newSecret, oldSecret] });

    const old = signWebhook({ secret: oldSecret, deliveredAt: new Date(NOW) });

    expect(sut.verify(old.rawBody, old.headers).signature).toEqual({ secretIndex: 1, header: 'current' });
    const d = signWebhook({ secret: newSecret, deliveredAt: new Date(NOW) });
    expect(sut.verify(d.rawBody, d.headers).signature).toEqual({ secretIndex: 0, header: 'current' });
  });

  it('accepts the -Previous signature when only the old secret is configured', () => {
    const oldSecret = generateWebhookSecret();
    const { sut } = makeSut({ secret: oldSecret });
    const d = signWebhook({ secret: generateWebhookSecret(), previousSecret: oldSecret, deliveredAt: new Date(NOW) });

    expect(sut.verify(d.rawBody, d.headers).signature).toEqual({ secretIndex: 0, header: 'previous' });
  });

  it('rejects a -Previous signature made with an unknown secret', () => {
    const { sut } = makeSut();
    const d = signWebhook({ secret: generateWebhookSecret(), previousSecret: generateWebhookSecret(), deliveredAt: new Date(NOW) });

    expectCode(() => sut.verify(d.rawBody, d.headers), 'invalid_signature');
  });

  it.each([
    ['too short', 'sha256=' + 'a'.repeat(63)],
    ['too long', 'sha256=' + 'a'.repeat(65)],
    ['one byte short', 'sha256=' + 'ab'.repeat(31)],
    ['another algorithm', 'sha512=' + 'a'.repeat(64)],
    ['no prefix', 'a'.repeat(64)],
    ['non-hex characters', 'sha256=' + 'g'.repeat(64)],
    ['multibyte junk of the right length', 'sha256=' + 'é'.repeat(64)],
    ['emoji', 'sha256=' + '😀'.repeat(32)],
    ['a NUL byte', 'sha256=' + 'a'.repeat(63) + '\u0000'],
    ['empty', ''],
  ])('answers malformed_signature, without throwing anything else, for a header that is %s', (_case, value) => {
    const { sut, secret } = makeSut();
    const d = signWebhook({ secret, deliveredAt: new Date(NOW) });

    const error = expectCode(() => sut.verify(d.rawBody, { ...d.headers, 'X-ApifyCloud-Signature': value }), 'malformed_signature');
    expect(error.status).toBe(400);
  });

  it('rejects a delivery without a signature header', () => {
    const { sut, secret } = makeSut();
    const { 'X-ApifyCloud-Signature': _removed, ...headers } = signWebhook({ secret, deliveredAt: new Date(NOW) }).headers;

    const error = expectCode(() => sut.verify('{}', headers), 'missing_signature');
    expect(error.status).toBe(401);
  });

  it('rejects a signature header repeated with different values', () => {
    const { sut, secret } = makeSut();
    const d = signWebhook({ secret, deliveredAt: new Date(NOW) });
    const other = signBody('x', secret);

    expectCode(() => sut.verify(d.rawBody, { ...d.headers, 'X-ApifyCloud-Signature': [d.headers['X-ApifyCloud-Signature']!, other] }), 'malformed_signature');
  });

  it('accepts a delivery 5 minutes old and rejects one a millisecond older', () => {
    const { sut, secret } = makeSut();
    const edge = signWebhook({ secret, deliveredAt: new Date(NOW - 5 * 60_000) });
    const stale = signWebhook({ secret, deliveredAt: new Date(NOW - 5 * 60_000 - 1) });

    expect(sut.verify(edge.rawBody, edge.headers).eventId).toBe(edge.event.id);
    const error = expectCode(() => sut.verify(stale.rawBody, stale.headers), 'stale_delivery');
    expect(error.status).toBe(401);
  });

  it('tolerates a minute of clock skew into the future and no more', () => {
    const { sut, secret } = makeSut();
    const skewed = signWebhook({ secret, deliveredAt: new Date(NOW + 60_000) });
    const future = signWebhook({ secret, deliveredAt: new Date(NOW + 60_001) });

    expect(sut.verify(skewed.rawBody, skewed.headers).eventId).toBe(skewed.event.id);
    expectCode(() => sut.verify(future.rawBody, future.headers), 'future_delivery');
  });

  it('uses the signed deliveredAt, not the unsigned timestamp header', () => {
    const { sut, secret } = makeSut();
    const replay = signWebhook({ secret, deliveredAt: new Date(NOW - 60 * 60_000) });

    expectCode(() => sut.verify(replay.rawBody, { ...replay.headers, 'X-ApifyCloud-Timestamp': new Date(NOW).toISOString() }), 'stale_delivery');
  });

  it('honours a configured replay window and an injected Date clock', () => {
    const { sut, secret } = makeSut({ toleranceMs: 1000, now: () => new Date(NOW) });
    const d = signWebhook({ secret, deliveredAt: new Date(NOW - 1001) });

    expectCode(() => sut.verify(d.rawBody, d.headers), 'stale_delivery');
  });

  it('rejects a correctly signed body that is not JSON', () => {
    const { sut, secret } = makeSut();
    const body = '{"id":"evt_1","event":"scheduled.created",';

    const error = expectCode(() => sut.verify(body, { 'X-ApifyCloud-Signature': signBody(body, secret), 'X-ApifyCloud-Delivery': 's:1' }), 'invalid_json');
    expect(error.status).toBe(400);
  });

  it('rejects a signed envelope whose full decode fails after the top-level fields', () => {
    const { sut, secret } = makeSut();
    const body = `{"id":"evt_1","event":"scheduled.created","deliveredAt":"${new Date(NOW).toISOString()}","attempt":1,"payload":{"scheduled_call":{]}}`;
    const webhook = sut.verify(body, { 'X-ApifyCloud-Signature': signBody(body, secret), 'X-ApifyCloud-Delivery': 's:1' });

    expectCode(() => webhook.event, 'invalid_json');
  });

  it('rejects a signed envelope with a duplicated key whose values disagree', () => {
    const { sut, secret } = makeSut();
    const at = new Date(NOW).toISOString();
    const body = `{"id":"evt_1","event":"scheduled.created","deliveredAt":"${at}","attempt":1,"payload":{"scheduled_call":{}},"id":"evt_2"}`;
    const webhook = sut.verify(body, { 'X-ApifyCloud-Signature': signBody(body, secret), 'X-ApifyCloud-Delivery': 's:1' });

    expectCode(() => webhook.event, 'invalid_payload');
  });

  it.each([
    ['no deliveredAt', (at: string) => `{"id":"e","event":"scheduled.created","attempt":1,"payload":{"scheduled_call":{}}}`.replace('@', at)],
    ['an unparseable deliveredAt', () => `{"id":"e","event":"scheduled.created","deliveredAt":"yesterday","attempt":1,"payload":{"scheduled_call":{}}}`],
    ['attempt 0', (at: string) => `{"id":"e","event":"scheduled.created","deliveredAt":"${at}","attempt":0,"payload":{"scheduled_call":{}}}`],
    ['an empty id', (at: string) => `{"id":"","event":"scheduled.created","deliveredAt":"${at}","attempt":1,"payload":{"scheduled_call":{}}}`],
    ['a JSON array', () => `[1,2,3]`],
  ])('rejects a signed body with %s', (_case, build) => {
    const { sut, secret } = makeSut();
    const body = build(new Date(NOW).toISOString());

    const error = expectCode(
      () => sut.verify(body, { 'X-ApifyCloud-Signature': signBody(body, secret), 'X-ApifyCloud-Delivery': 's:1' }),
      body.startsWith('[') ? 'invalid_json' : 'invalid_payload',
    );
    expect(error.status).toBe(400);
  });

  it('rejects a signed body without payload.scheduled_call when the event is read', () => {
    const { sut, secret } = makeSut();
    const body = `{"id":"e","event":"scheduled.created","deliveredAt":"${new Date(NOW).toISOString()}","attempt":1,"payload":null}`;
    const webhook = sut.verify(body, { 'X-ApifyCloud-Signature': signBody(body, secret), 'X-ApifyCloud-Delivery': 's:1' });

    expectCode(() => webhook.event, 'invalid_payload');
  });

  it('rejects a body over maxBodyBytes before computing any HMAC', () => {
    const { sut, secret } = makeSut({ maxBodyBytes: 1024 });
    const d = signWebhook({ secret, deliveredAt: new Date(NOW), scheduledCall: { metadata: { notes: 'x'.repeat(2048) } } });

    const error = expectCode(() => sut.verify(d.rawBody, d.headers), 'payload_too_large');
    expect(error.status).toBe(413);
  });

  it('rejects an event type it does not know, after checking the signature', () => {
    const { sut, secret } = makeSut();
    const body = `{"id":"e","event":"scheduled.teleported","deliveredAt":"${new Date(NOW).toISOString()}","attempt":1,"payload":{"scheduled_call":{}}}`;

    expectCode(
      () => sut.verify(body, { 'X-ApifyCloud-Signature': signBody(body, generateWebhookSecret()), 'X-ApifyCloud-Delivery': 's:1' }),
      'invalid_signature',
    );
    expectCode(() => sut.verify(body, { 'X-ApifyCloud-Signature': signBody(body, secret), 'X-ApifyCloud-Delivery': 's:1' }), 'unknown_event');
  });

  it.each([
    ['missing', undefined],
    ['without an attempt', 'sub_1'],
    ['with an empty subscription id', ':1'],
  ])('rejects a delivery header that is %s', (_case, value) => {
    const { sut, secret } = makeSut();
    const d = signWebhook({ secret, deliveredAt: new Date(NOW) });
    const headers: Record<string, string> = { ...d.headers };
    if (value === undefined) delete headers['X-ApifyCloud-Delivery'];
    else headers['X-ApifyCloud-Delivery'] = value;

    expectCode(() => sut.verify(d.rawBody, headers), 'invalid_delivery_header');
  });

  it('rejects event id and event headers that contradict the signed body', () => {
    const { sut, secret } = makeSut();
    const d = signWebhook({ secret, deliveredAt: new Date(NOW) });

    expectCode(() => sut.verify(d.rawBody, { ...d.headers, 'X-ApifyCloud-Event-Id': 'other' }), 'header_mismatch');
    expectCode(() => sut.verify(d.rawBody, { ...d.headers, 'X-ApifyCloud-Event': 'scheduled.no_show' }), 'header_mismatch');
  });

  it('answers header_mismatch (400) when X-ApifyCloud-Delivery names another subscription or attempt than the signed body', () => {
    const { sut, secret } = makeSut();
    const d = signWebhook({ secret, deliveredAt: new Date(NOW), subscriptionId: 'sub_1' });

    const other = expectCode(() => sut.verify(d.rawBody, { ...d.headers, 'X-ApifyCloud-Delivery': 'other:1' }), 'header_mismatch');
    expectCode(() => sut.verify(d.rawBody, { ...d.headers, 'X-ApifyCloud-Delivery': 'sub_1:2' }), 'header_mismatch');
    expect(other.status).toBe(400);
  });

  it('keys idempotency on the signed subscription_id and id', () => {
    const { sut, secret } = makeSut();
    const d = signWebhook({ secret, deliveredAt: new Date(NOW), subscriptionId: 'sub_1', id: 'evt_1' });

    const webhook = sut.verify(d.rawBody, d.headers);

    expect(webhook.idempotencyKey).toBe('sub_1:evt_1');
    expect(webhook.subscriptionIdSource).toBe('body');
    expect(webhook.event.subscription_id).toBe('sub_1');
  });

  it('falls back to the X-ApifyCloud-Delivery subscription for bodies signed without subscription_id', () => {
    const { sut, secret } = makeSut();
    const d = signWebhook({ secret, deliveredAt: new Date(NOW), subscriptionId: 'sub_old', id: 'evt_1', omitSubscriptionId: true });

    const webhook = sut.verify(d.rawBody, d.headers);

    expect(webhook.idempotencyKey).toBe('sub_old:evt_1');
    expect(webhook.subscriptionIdSource).toBe('header');
    expect(webhook.event.id).toBe('evt_1');
  });

  it('reads subscription_id wherever it sits in the body', () => {
    const { sut, secret } = makeSut();
    const body = JSON.stringify({
      event: 'scheduled.created',
      id: 'evt_1',
      deliveredAt: new Date(NOW).toISOString(),
      attempt: 1,
      payload: { scheduled_call: {} },
      subscription_id: 'sub_2',
    });
    const headers = { 'X-ApifyCloud-Signature': signBody(body, secret), 'X-ApifyCloud-Delivery': 'sub_2:1' };

    expect(sut.verify(body, headers).idempotencyKey).toBe('sub_2:evt_1');
    expectCode(() => sut.verify(body, { ...headers, 'X-ApifyCloud-Delivery': 'sub_3:1' }), 'header_mismatch');
  });

  it('reads headers from a Fetch Headers object, [name, value] pairs and rawHeaders', () => {
    const { sut, secret } = makeSut();
    const d = signWebhook({ secret, deliveredAt: new Date(NOW) });
    const pairs = Object.entries(d.headers);

    expect(sut.verify(d.rawBody, new Headers(d.headers)).eventId).toBe(d.event.id);
    expect(sut.verify(d.rawBody, pairs).eventId).toBe(d.event.id);
    expect(sut.verify(d.rawBody, pairs.flat()).eventId).toBe(d.event.id);
  });

  it('verifies a Uint8Array view into a larger buffer', () => {
    const { sut, secret } = makeSut();
    const d = signWebhook({ secret, deliveredAt: new Date(NOW) });
    const backing = new Uint8Array(d.rawBody.length + 20);
    backing.set(d.rawBody, 10);

    expect(sut.verify(backing.subarray(10, 10 + d.rawBody.length), d.headers).eventId).toBe(d.event.id);
  });

  it('refuses a parsed object instead of bytes, with a hint', () => {
    const { sut, secret } = makeSut();
    const d = signWebhook({ secret, deliveredAt: new Date(NOW) });

    const error = expectCode(() => sut.verify(d.event as never, d.headers), 'raw_body_unavailable');
    expect(error.hint).toMatch(/re-serialising/);
  });

  it.each([
    ['undefined', undefined],
    ['empty', ''],
    ['an empty list', []],
    ['padded with a newline', 'whsec_abc\n'],
  ])('fails at construction when the secret is %s', (_case, secret) => {
    expect(() => new WebhookVerifier({ secret: secret })).toThrow(TypeError);
  });
});

describe(verifyWebhook.name, () => {
  it('verifies with plain options', () => {
    const secret = generateWebhookSecret();
    const d = signWebhook({ secret });

    expect(verifyWebhook(d.rawBody, d.headers, { secret }).event.id).toBe(d.event.id);
  });
});
