import { createHmac, timingSafeEqual } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { createBooking, createVideoApp, startTestApi, TestApi, TestVideoApp } from './support/test-api';
import { TestReceiver } from './support/test-receiver';
import { startTestWorker, TestWorker } from './support/test-worker';
import { waitFor } from './support/wait-for';

/** Written from SPEC §3 alone: HMAC-SHA256 of the raw body, hex, behind "sha256=". */
function signatureValid(header: string | string[] | undefined, secret: string, rawBody: Buffer): boolean {
  const match = /^sha256=([0-9a-f]{64})$/.exec(String(header));
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return timingSafeEqual(Buffer.from(match[1], 'hex'), expected);
}

describe('Webhook delivery', () => {
  let api: TestApi;
  let worker: TestWorker;
  let app: TestVideoApp;
  const receivers: TestReceiver[] = [];

  beforeAll(async () => {
    api = await startTestApi({ WEBHOOK_RETRY_SCHEDULE: '0s,150ms,150ms', WEBHOOK_TIMEOUT_MS: '2000' });
    worker = await startTestWorker(api);
    app = await createVideoApp(api);
  });
  afterAll(async () => {
    await worker.close();
    await Promise.all(receivers.map((r) => r.stop()));
    await api.close();
  });

  async function receiver(): Promise<TestReceiver> {
    const r = await new TestReceiver().start();
    receivers.push(r);
    return r;
  }

  async function subscribe(url: string, events: string[] = ['*'], tenant = app): Promise<{ id: string; secret: string }> {
    const response = await api.http.post(`/v1/apps/${tenant.id}/webhook-subscriptions`).set(tenant.auth).send({ url, events, description: 'test' }).expect(201);
    expect(response.body.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    return { id: response.body.id, secret: response.body.secret };
  }

  const sub = async (id: string, tenant = app) => (await api.http.get(`/v1/apps/${tenant.id}/webhook-subscriptions/${id}`).set(tenant.auth).expect(200)).body;
  const deliveries = async (subId: string, tenant = app) =>
    (await api.http.get(`/v1/apps/${tenant.id}/webhook-subscriptions/${subId}/deliveries`).set(tenant.auth).expect(200)).body.data;
  const delivery = async (id: string, tenant = app) => (await api.http.get(`/v1/apps/${tenant.id}/webhook-deliveries/${id}`).set(tenant.auth).expect(200)).body;

  it('sends exactly the SPEC §3 request, signed over the exact bytes', async () => {
    const r = await receiver();
    const { id: subId, secret } = await subscribe(`${r.url}/hooks?source=test`);
    const call = await createBooking(api, app);
    const [request] = await waitFor('the delivery', () => r.requests.length > 0 && r.requests);
    const event = (await api.db.query(`SELECT id FROM outbox_events WHERE scheduled_call_id = $1`, [call.id]))[0];
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/hooks?source=test');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['user-agent']).toMatch(/^ApifyCloud-Webhooks\/\S+$/);
    expect(request.headers['x-apifycloud-event']).toBe('scheduled.created');
    expect(request.headers['x-apifycloud-delivery']).toBe(`${subId}:1`);
    expect(request.headers['x-apifycloud-event-id']).toBe(event.id);
    expect(request.headers['x-apifycloud-signature-previous']).toBeUndefined();
    expect(signatureValid(request.headers['x-apifycloud-signature'], secret, request.rawBody)).toBe(true);
    expect(Object.keys(request.json)).toEqual(['id', 'subscription_id', 'event', 'deliveredAt', 'attempt', 'payload']);
    expect(request.json).toEqual({
      id: event.id,
      subscription_id: subId,
      event: 'scheduled.created',
      deliveredAt: request.headers['x-apifycloud-timestamp'],
      attempt: 1,
      payload: { scheduled_call: call },
    });
    expect(new Date(request.json.deliveredAt).toISOString()).toBe(request.json.deliveredAt);
    const [listed] = await waitFor('the delivery to succeed', async () => {
      const d = await deliveries(subId);
      return d[0]?.status === 'succeeded' && d;
    });
    expect(listed).toMatchObject({ subscription_id: subId, event_id: event.id, event: 'scheduled.created', attempt_count: 1, next_attempt_at: null });
    const detail = await delivery(listed.id);
    expect(detail.attempts).toEqual([
      expect.objectContaining({ attempt: 1, trigger: 'automatic', response_status: 200, response_body: 'ok', error: null, duration_ms: expect.any(Number) }),
    ]);
    expect((await sub(subId)).last_delivery).toMatchObject({
      id: listed.id,
      event: 'scheduled.created',
      status: 'succeeded',
      attempt_count: 1,
      response_status: 200,
    });
    const listing = await api.http.get(`/v1/apps/${app.id}/webhook-subscriptions`).set(app.auth).expect(200);
    expect(JSON.stringify(listing.body)).not.toContain(secret);
    expect(JSON.stringify(await sub(subId))).not.toContain(secret);
  });

  it('sends each event only to the subscriptions that asked for its type', async () => {
    const r = await receiver();
    const tenant = await createVideoApp(api, { name: 'Allowlist' });
    const cancelledOnly = await subscribe(`${r.url}/cancelled`, ['scheduled.cancelled'], tenant);
    const all = await subscribe(`${r.url}/all`, ['*'], tenant);
    const call = await createBooking(api, tenant);
    await api.http.post(`/v1/apps/${tenant.id}/scheduled-calls/${call.id}/cancel`).set(tenant.auth).send({}).expect(200);
    await waitFor('three deliveries', () => r.requests.length >= 3);
    await new Promise((resolve) => setTimeout(resolve, 300)); // nothing else may arrive
    expect(r.requests.filter((q) => q.url === '/cancelled').map((q) => q.json.event)).toEqual(['scheduled.cancelled']);
    expect(
      r.requests
        .filter((q) => q.url === '/all')
        .map((q) => q.json.event)
        .sort(),
    ).toEqual(['scheduled.cancelled', 'scheduled.created']);
    expect(r.requests.every((q) => q.json.id === q.headers['x-apifycloud-event-id'])).toBe(true);
    const cancelledEventId = r.requests.find((q) => q.url === '/cancelled')!.json.id;
    expect(r.requests.find((q) => q.url === '/all' && q.json.event === 'scheduled.cancelled')!.json.id).toBe(cancelledEventId);
    expect((await deliveries(cancelledOnly.id, tenant)).length).toBe(1);
    expect((await deliveries(all.id, tenant)).length).toBe(2);
  });

  it('retries on the schedule until a 2xx, numbering attempts and keeping the event id', async () => {
    const r = await receiver();
    const tenant = await createVideoApp(api, { name: 'Retries' });
    const { id: subId } = await subscribe(r.url, ['*'], tenant);
    let calls = 0;
    r.responder = (_, res) => void res.writeHead(++calls < 3 ? 500 : 200).end(calls < 3 ? 'down for maintenance' : 'ok');
    await createBooking(api, tenant);
    await waitFor('three attempts', () => r.requests.length === 3);
    expect(r.requests.map((q) => q.json.attempt)).toEqual([1, 2, 3]);
    expect(r.requests.map((q) => q.headers['x-apifycloud-delivery'])).toEqual([`${subId}:1`, `${subId}:2`, `${subId}:3`]);
    expect(new Set(r.requests.map((q) => q.json.id)).size).toBe(1);
    expect(r.requests[1].receivedAt - r.requests[0].receivedAt).toBeGreaterThanOrEqual(100);
    const [d] = await waitFor('success', async () => {
      const list = await deliveries(subId, tenant);
      return list[0]?.status === 'succeeded' && list;
    });
    const detail = await delivery(d.id, tenant);
    expect(
      detail.attempts.map((a: { response_status: number; response_body: string; error: string | null }) => [a.response_status, a.response_body, a.error]),
    ).toEqual([
      [500, 'down for maintenance', 'HTTP 500'],
      [500, 'down for maintenance', 'HTTP 500'],
      [200, 'ok', null],
    ]);
    expect((await sub(subId, tenant)).status).toBe('active');
  });

  it('fails a delivery when the schedule is used up and marks the subscription failing after 3 failures in a row', async () => {
    const r = await receiver();
    const tenant = await createVideoApp(api, { name: 'Failing' });
    r.answer(500, 'nope');
    const { id: subId } = await subscribe(r.url, ['*'], tenant);
    await createBooking(api, tenant);
    const [d] = await waitFor('failure', async () => {
      const list = await deliveries(subId, tenant);
      return list[0]?.status === 'failed' && list;
    });
    expect(d).toMatchObject({ attempt_count: 3, next_attempt_at: null });
    expect(r.requests).toHaveLength(3);
    const failing = await sub(subId, tenant);
    expect(failing).toMatchObject({ status: 'failing', paused_reason: null, health: { consecutive_failures: 3, circuit: 'closed' } });
    // Paused automatically WEBHOOK_AUTO_PAUSE_AFTER (5 days) after the first failure unless something succeeds.
    expect(new Date(failing.health.auto_pause_at).getTime() - new Date(failing.health.failing_since).getTime()).toBe(5 * 86_400_000);

    r.answer(204);
    const retried = await api.http.post(`/v1/apps/${tenant.id}/webhook-deliveries/${d.id}/retry`).set(tenant.auth).expect(202);
    expect(retried.body.status).toBe('pending');
    const done = await waitFor('the manual retry', async () => {
      const x = await delivery(d.id, tenant);
      return x.status === 'succeeded' && x;
    });
    expect(done.attempts.map((a: { attempt: number; trigger: string }) => [a.attempt, a.trigger])).toEqual([
      [1, 'automatic'],
      [2, 'automatic'],
      [3, 'automatic'],
      [4, 'manual'],
    ]);
    expect(r.requests[3].json.attempt).toBe(4);
    expect(await sub(subId, tenant)).toMatchObject({ status: 'active', health: { consecutive_failures: 0, failing_since: null, auto_pause_at: null } });
  });

  it('re-sends failed deliveries since a time with recover', async () => {
    const r = await receiver();
    const tenant = await createVideoApp(api, { name: 'Recover' });
    r.answer(500);
    const { id: subId } = await subscribe(r.url, ['*'], tenant);
    const since = new Date(Date.now() - 60_000).toISOString();
    await createBooking(api, tenant);
    await createBooking(api, tenant);
    await waitFor('two failed deliveries', async () => (await deliveries(subId, tenant)).filter((d: { status: string }) => d.status === 'failed').length === 2);
    r.answer(200);
    const response = await api.http.post(`/v1/apps/${tenant.id}/webhook-subscriptions/${subId}/recover`).set(tenant.auth).send({ since }).expect(202);
    expect(response.body).toEqual({ recovered: 2 });
    await waitFor('both recovered', async () => (await deliveries(subId, tenant)).every((d: { status: string }) => d.status === 'succeeded'));
    expect(r.requests.slice(-2).every((q) => q.json.attempt === 4)).toBe(true);
  });

  it('holds deliveries while paused and sends them on resume; replay_held false drops them as failed', async () => {
    const r = await receiver();
    const tenant = await createVideoApp(api, { name: 'Pause' });
    const { id: subId } = await subscribe(r.url, ['*'], tenant);
    const paused = await api.http.post(`/v1/apps/${tenant.id}/webhook-subscriptions/${subId}/pause`).set(tenant.auth).expect(200);
    expect(paused.body).toMatchObject({ status: 'paused', paused_reason: 'manual' });
    await createBooking(api, tenant);
    await waitFor('a held delivery', async () => (await deliveries(subId, tenant))[0]?.status === 'held');
    expect(r.requests).toHaveLength(0);
    expect((await sub(subId, tenant)).health).toMatchObject({ held_count: 1, auto_pause_at: null });
    const resumed = await api.http.post(`/v1/apps/${tenant.id}/webhook-subscriptions/${subId}/resume`).set(tenant.auth).send({}).expect(200);
    expect(resumed.body).toMatchObject({ status: 'active', paused_reason: null });
    await waitFor('the held delivery sent', () => r.requests.length === 1);

    await api.http.post(`/v1/apps/${tenant.id}/webhook-subscriptions/${subId}/pause`).set(tenant.auth).expect(200);
    await createBooking(api, tenant);
    await waitFor('a second held delivery', async () => (await deliveries(subId, tenant)).some((d: { status: string }) => d.status === 'held'));
    await api.http.post(`/v1/apps/${tenant.id}/webhook-subscriptions/${subId}/resume`).set(tenant.auth).send({ replay_held: false }).expect(200);
    expect((await deliveries(subId, tenant)).map((d: { status: string }) => d.status).sort()).toEqual(['failed', 'succeeded']);
    await api.http
      .post(`/v1/apps/${tenant.id}/webhook-subscriptions/${subId}/recover`)
      .set(tenant.auth)
      .send({ since: new Date(Date.now() - 60_000).toISOString() })
      .expect(202);
    await waitFor('the dropped one recovered', () => r.requests.length === 2);
  });

  it('pauses at once on 410 Gone and holds the delivery', async () => {
    const r = await receiver();
    const tenant = await createVideoApp(api, { name: 'Gone' });
    r.answer(410, 'gone');
    const { id: subId } = await subscribe(r.url, ['*'], tenant);
    await createBooking(api, tenant);
    await waitFor('the pause', async () => (await sub(subId, tenant)).status === 'paused');
    expect(await sub(subId, tenant)).toMatchObject({ paused_reason: 'gone', last_delivery: { status: 'held', response_status: 410 } });
    expect(r.requests).toHaveLength(1);
  });

  it('never follows a redirect: 3xx is a failure and the target is not called', async () => {
    const r = await receiver();
    const target = await receiver();
    const tenant = await createVideoApp(api, { name: 'Redirect' });
    r.answer(302, '', { location: `${target.url}/elsewhere` });
    const { id: subId } = await subscribe(r.url, ['*'], tenant);
    await createBooking(api, tenant);
    const [d] = await waitFor('failure', async () => {
      const list = await deliveries(subId, tenant);
      return list[0]?.status === 'failed' && list;
    });
    expect((await delivery(d.id, tenant)).attempts[0]).toMatchObject({ response_status: 302, error: expect.stringContaining('redirect not followed') });
    expect(target.requests).toHaveLength(0);
  });

  it('waits for Retry-After on 429 and 503', async () => {
    const r = await receiver();
    const tenant = await createVideoApp(api, { name: 'RetryAfter' });
    let calls = 0;
    r.responder = (_, res) =>
      void (++calls === 1
        ? res.writeHead(429, { 'retry-after': '1' }).end()
        : calls === 2
          ? res.writeHead(503, { 'retry-after': '1' }).end()
          : res.writeHead(200).end());
    await subscribe(r.url, ['*'], tenant);
    await createBooking(api, tenant);
    await waitFor('three attempts', () => r.requests.length === 3);
    expect(r.requests[1].receivedAt - r.requests[0].receivedAt).toBeGreaterThanOrEqual(900);
    expect(r.requests[2].receivedAt - r.requests[1].receivedAt).toBeGreaterThanOrEqual(900);
  });

  it('signs with both secrets during a rotation grace period, and with the new one only after a rotation without grace', async () => {
    const r = await receiver();
    const tenant = await createVideoApp(api, { name: 'Rotation' });
    const { id: subId, secret: first } = await subscribe(r.url, ['*'], tenant);
    const rotated = await api.http
      .post(`/v1/apps/${tenant.id}/webhook-subscriptions/${subId}/rotate-secret`)
      .set(tenant.auth)
      .send({ grace_period_seconds: 3600 })
      .expect(200);
    const second: string = rotated.body.secret;
    expect(second).not.toBe(first);
    expect(rotated.body.previous_secret_expires_at).toEqual(expect.any(String));
    await createBooking(api, tenant);
    await waitFor('a delivery', () => r.requests.length === 1);
    const [during] = r.requests;
    expect(signatureValid(during.headers['x-apifycloud-signature'], second, during.rawBody)).toBe(true);
    expect(signatureValid(during.headers['x-apifycloud-signature-previous'], first, during.rawBody)).toBe(true);

    const again = await api.http
      .post(`/v1/apps/${tenant.id}/webhook-subscriptions/${subId}/rotate-secret`)
      .set(tenant.auth)
      .send({ grace_period_seconds: 3600 })
      .expect(200);
    await createBooking(api, tenant);
    await waitFor('a second delivery', () => r.requests.length === 2);
    expect(signatureValid(r.requests[1].headers['x-apifycloud-signature'], again.body.secret, r.requests[1].rawBody)).toBe(true);
    expect(signatureValid(r.requests[1].headers['x-apifycloud-signature-previous'], second, r.requests[1].rawBody)).toBe(true);

    const immediate = await api.http
      .post(`/v1/apps/${tenant.id}/webhook-subscriptions/${subId}/rotate-secret`)
      .set(tenant.auth)
      .send({ grace_period_seconds: 0 })
      .expect(200);
    expect(immediate.body.previous_secret_expires_at).toBeNull();
    await createBooking(api, tenant);
    await waitFor('a third delivery', () => r.requests.length === 3);
    expect(signatureValid(r.requests[2].headers['x-apifycloud-signature'], immediate.body.secret, r.requests[2].rawBody)).toBe(true);
    expect(r.requests[2].headers['x-apifycloud-signature-previous']).toBeUndefined();
    const stored = await api.db.query('SELECT secret_ciphertext FROM webhook_subscriptions WHERE id = $1', [subId]);
    expect(stored[0].secret_ciphertext.toString('latin1')).not.toContain(immediate.body.secret);
  });

  it('ends an attempt at WEBHOOK_TIMEOUT_MS even while the body keeps trickling in', async () => {
    const r = await receiver();
    const tenant = await createVideoApp(api, { name: 'Trickle' });
    let calls = 0;
    r.responder = (_, res) => {
      if (++calls > 1) return void res.writeHead(200).end('ok');
      // A byte every 100 ms: never idle long enough for a body timeout, never finished.
      res.writeHead(500, { 'content-type': 'text/plain' });
      const drip = setInterval(() => res.write('.'), 100);
      res.on('close', () => clearInterval(drip));
    };
    const { id: subId } = await subscribe(r.url, ['*'], tenant);
    await createBooking(api, tenant);
    const [d] = await waitFor(
      'the retry to succeed',
      async () => {
        const list = await deliveries(subId, tenant);
        return list[0]?.status === 'succeeded' && list;
      },
      15_000,
    );
    const [first] = (await delivery(d.id, tenant)).attempts;
    expect(first).toMatchObject({ response_status: 500, response_body: expect.stringMatching(/^\.+$/) });
    expect(first.duration_ms).toBeGreaterThanOrEqual(2_000);
    expect(first.duration_ms).toBeLessThan(5_000);
  });

  it('keeps 4 KiB of a huge or gzip-bomb response body', async () => {
    const r = await receiver();
    const tenant = await createVideoApp(api, { name: 'Big bodies' });
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 'a'));
    let calls = 0;
    r.responder = (_, res) => {
      if (++calls === 1) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        let sent = 0;
        const pump = () => {
          while (sent < 20 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('error', () => undefined);
        pump();
      } else res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' }).end(bomb);
    };
    const { id: subId } = await subscribe(r.url, ['*'], tenant);
    await createBooking(api, tenant);
    const [d] = await waitFor('success', async () => {
      const list = await deliveries(subId, tenant);
      return list[0]?.status === 'succeeded' && list;
    });
    const attempts = (await delivery(d.id, tenant)).attempts;
    expect(attempts[0].response_body).toBe('x'.repeat(4096));
    expect(attempts[1].response_body).toBe('a'.repeat(4096));
  });

  describe('admin API', () => {
    let other: TestVideoApp;
    let subId: string;
    let deliveryId: string;
    beforeAll(async () => {
      const r = await receiver();
      other = await createVideoApp(api, { name: 'Intruder' });
      subId = (await subscribe(r.url)).id;
      await createBooking(api, app);
      deliveryId = (
        await waitFor('a delivered delivery', async () => {
          const [d] = await deliveries(subId);
          return d?.status === 'succeeded' && d;
        })
      ).id;
    });

    const routes: Array<[string, string, object | undefined]> = [
      ['GET', '/webhook-subscriptions', undefined],
      ['POST', '/webhook-subscriptions', { url: 'http://127.0.0.1:9/x', events: ['*'] }],
      ['GET', '/webhook-subscriptions/:sub', undefined],
      ['PATCH', '/webhook-subscriptions/:sub', { description: 'hijacked' }],
      ['DELETE', '/webhook-subscriptions/:sub', undefined],
      ['POST', '/webhook-subscriptions/:sub/pause', undefined],
      ['POST', '/webhook-subscriptions/:sub/resume', {}],
      ['POST', '/webhook-subscriptions/:sub/rotate-secret', { grace_period_seconds: 0 }],
      ['POST', '/webhook-subscriptions/:sub/recover', { since: '2026-01-01T00:00:00Z' }],
      ['GET', '/webhook-subscriptions/:sub/deliveries', undefined],
      ['POST', '/webhook-subscriptions/:sub/test', {}],
      ['GET', '/webhook-subscriptions/:sub/stats', undefined],
      ['GET', '/webhook-deliveries/:delivery', undefined],
      ['POST', '/webhook-deliveries/:delivery/retry', undefined],
    ];

    it.each(routes)("answers 404 to %s %s with another app's key and changes nothing", async (method, path, body) => {
      const snapshot = () =>
        api.db.query(
          `SELECT (SELECT row_to_json(s) FROM webhook_subscriptions s WHERE id = $1) AS sub, (SELECT row_to_json(d) FROM webhook_deliveries d WHERE id = $2) AS delivery, (SELECT count(*) FROM webhook_subscriptions) AS subs`,
          [subId, deliveryId],
        );
      const before = await snapshot();
      const url = `/v1/apps/${app.id}${path.replace(':sub', subId).replace(':delivery', deliveryId)}`;
      const req = api.http[method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete'](url).set(other.auth);
      const response = await (body ? req.send(body) : req);
      expect(response.status).toBe(404);
      expect(await snapshot()).toEqual(before);
    });

    it("answers 404 for another app's subscription under the caller's own path", async () => {
      await api.http.get(`/v1/apps/${other.id}/webhook-subscriptions/${subId}`).set(other.auth).expect(404);
      await api.http.get(`/v1/apps/${other.id}/webhook-deliveries/${deliveryId}`).set(other.auth).expect(404);
      await api.http.post(`/v1/apps/${other.id}/webhook-deliveries/${deliveryId}/retry`).set(other.auth).expect(404);
    });

    it.each([
      [{ url: 'http://127.0.0.1:9/x', events: ['scheduled.started'] }, 'validation_failed'],
      [{ url: 'http://127.0.0.1:9/x', events: [] }, 'validation_failed'],
      [{ url: 'http://127.0.0.1:9/x', events: ['*', 'scheduled.created'] }, 'validation_failed'],
      [{ url: 'http://127.0.0.1:9/x', events: 'scheduled.created' }, 'validation_failed'],
      [{ url: 'ftp://example.com/', events: ['*'] }, 'invalid_url'],
      [{ url: 'http://user:pw@127.0.0.1/', events: ['*'] }, 'invalid_url'],
      [{ url: 'http://127.0.0.1:9/x', events: ['*'], secret: 'mine' }, 'validation_failed'],
    ])('refuses the subscription %j with 422 %s', async (body, code) => {
      const count = (await api.db.query('SELECT count(*)::int AS n FROM webhook_subscriptions'))[0].n;
      const response = await api.http.post(`/v1/apps/${app.id}/webhook-subscriptions`).set(app.auth).send(body).expect(422);
      expect(response.body.code).toBe(code);
      expect((await api.db.query('SELECT count(*)::int AS n FROM webhook_subscriptions'))[0].n).toBe(count);
    });

    it('updates url, events and description, and deletes', async () => {
      const r = await receiver();
      const created = await subscribe(r.url, ['scheduled.created']);
      const updated = await api.http
        .patch(`/v1/apps/${app.id}/webhook-subscriptions/${created.id}`)
        .set(app.auth)
        .send({ url: `${r.url}/v2`, events: ['scheduled.cancelled', 'scheduled.no_show'], description: null })
        .expect(200);
      expect(updated.body).toMatchObject({ url: `${r.url}/v2`, events: ['scheduled.cancelled', 'scheduled.no_show'], description: null });
      expect(updated.body).not.toHaveProperty('secret');
      await api.http.delete(`/v1/apps/${app.id}/webhook-subscriptions/${created.id}`).set(app.auth).expect(204);
      await api.http.get(`/v1/apps/${app.id}/webhook-subscriptions/${created.id}`).set(app.auth).expect(404);
    });

    it('refuses a retry while the subscription is paused', async () => {
      await api.http.post(`/v1/apps/${app.id}/webhook-subscriptions/${subId}/pause`).set(app.auth).expect(200);
      const response = await api.http.post(`/v1/apps/${app.id}/webhook-deliveries/${deliveryId}/retry`).set(app.auth).expect(409);
      expect(response.body.code).toBe('subscription_paused');
      await api.http.post(`/v1/apps/${app.id}/webhook-subscriptions/${subId}/resume`).set(app.auth).send({}).expect(200);
    });

    it('filters and pages the delivery log', async () => {
      for (let i = 0; i < 3; i++) await createBooking(api, app);
      await waitFor('four deliveries', async () => (await deliveries(subId)).length >= 4);
      const first = await api.http.get(`/v1/apps/${app.id}/webhook-subscriptions/${subId}/deliveries`).query({ limit: 2 }).set(app.auth).expect(200);
      expect(first.body.data).toHaveLength(2);
      const second = await api.http
        .get(`/v1/apps/${app.id}/webhook-subscriptions/${subId}/deliveries`)
        .query({ limit: 2, cursor: first.body.next_cursor })
        .set(app.auth)
        .expect(200);
      expect(second.body.data[0].id).not.toBe(first.body.data[1].id);
      const failed = await api.http.get(`/v1/apps/${app.id}/webhook-subscriptions/${subId}/deliveries`).query({ status: 'failed' }).set(app.auth).expect(200);
      expect(failed.body.data).toEqual([]);
      await api.http.get(`/v1/apps/${app.id}/webhook-subscriptions/${subId}/deliveries`).query({ status: 'lost' }).set(app.auth).expect(400);
    });

    it('filters the delivery log by booking, event id, event type and time, each on its own and together', async () => {
      const list = async (query: Record<string, string>) =>
        (await api.http.get(`/v1/apps/${app.id}/webhook-subscriptions/${subId}/deliveries`).query(query).set(app.auth).expect(200)).body.data as Array<{
          id: string;
          event: string;
          event_id: string;
        }>;
      // The API's clock moves by hand: a second between the events, so their order and the bounds are exact.
      api.clock.advance(1_000);
      const first = await createBooking(api, app);
      api.clock.advance(1_000);
      await api.http.post(`/v1/apps/${app.id}/scheduled-calls/${first.id}/cancel`).set(app.auth).send({ reason: 'filter test' }).expect(200);
      api.clock.advance(1_000);
      const between = api.clock.now().toISOString();
      api.clock.advance(1_000);
      const second = await createBooking(api, app);
      await waitFor(
        'the three deliveries',
        async () => (await list({ scheduled_call_id: first.id })).length === 2 && (await list({ scheduled_call_id: second.id })).length === 1,
      );
      const events: Array<{ id: string; type: string }> = await api.db.query(
        `SELECT id, type FROM outbox_events WHERE scheduled_call_id = $1 ORDER BY occurred_at`,
        [first.id],
      );
      const cancelled = events.find((e) => e.type === 'scheduled.cancelled')!;

      const ofFirst = await list({ scheduled_call_id: first.id });
      expect(ofFirst.map((d) => d.event)).toEqual(['scheduled.cancelled', 'scheduled.created']);
      expect(ofFirst.map((d) => d.event_id).sort()).toEqual(events.map((e) => e.id).sort());
      expect((await list({ event_id: cancelled.id })).map((d) => d.event_id)).toEqual([cancelled.id]);
      expect(await list({ event_id: cancelled.id, event: 'scheduled.created' })).toEqual([]);
      const cancellations = await list({ event: 'scheduled.cancelled' });
      expect(cancellations.map((d) => d.event_id)).toContain(cancelled.id);
      expect(cancellations.every((d) => d.event === 'scheduled.cancelled')).toBe(true);
      const [ofSecond] = await list({ scheduled_call_id: second.id });
      expect((await list({ from: between })).map((d) => d.id)).toEqual([ofSecond.id]);
      expect(await list({ to: between, scheduled_call_id: second.id })).toEqual([]);
      expect((await list({ scheduled_call_id: first.id, event: 'scheduled.created', to: between })).map((d) => d.event)).toEqual(['scheduled.created']);
      // Ids that are not UUIDv7 (made outside the platform) are looked up in every partition: no match, no error.
      expect(await list({ scheduled_call_id: '3f2b9a58-0a5e-4d7c-9d1e-2b8f5a6c7d8e' })).toEqual([]);
      expect(await list({ event_id: '3f2b9a58-0a5e-4d7c-9d1e-2b8f5a6c7d8e' })).toEqual([]);
    });
  });
});
