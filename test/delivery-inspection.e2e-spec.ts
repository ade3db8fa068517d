import { createHmac } from 'node:crypto';
import { createBooking, createSubscription, createVideoApp, startTestApi, TestApi, TestVideoApp } from './support/test-api';
import { TestReceiver, TestReceivers } from './support/test-receiver';
import { startTestWorker, TestWorker } from './support/test-worker';
import { waitFor } from './support/wait-for';
import { WebhookDeliveriesRepository } from '../apps/api/src/webhooks/webhook-deliveries.repository';

const hmac = (secret: string, body: string | Buffer) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/**
 * What the console's request inspector and booking page read: each attempt's request as sent
 * (headers stored, body rebuilt from the event's payload) and the deliveries of one booking.
 */
describe('Delivery inspection', () => {
  let api: TestApi;
  let worker: TestWorker;
  let app: TestVideoApp;
  const receivers = new TestReceivers();

  beforeAll(async () => {
    api = await startTestApi({ WEBHOOK_RETRY_SCHEDULE: '0s,100ms', WEBHOOK_TIMEOUT_MS: '2000' });
    worker = await startTestWorker(api);
    app = await createVideoApp(api, { name: 'Inspector' });
  });
  afterAll(async () => {
    await worker.close();
    await receivers.stopAll();
    await api.close();
  });

  const receiver = (): Promise<TestReceiver> => receivers.start();

  const subscribe = (url: string, tenant = app) => createSubscription(api, tenant, url);

  const getDelivery = async (id: string, tenant = app) =>
    (await api.http.get(`/v1/apps/${tenant.id}/webhook-deliveries/${id}`).set(tenant.auth).expect(200)).body;
  const logOf = async (subId: string, tenant = app) =>
    (await api.http.get(`/v1/apps/${tenant.id}/webhook-subscriptions/${subId}/deliveries`).set(tenant.auth).expect(200)).body.data;

  it("shows each attempt's request as sent: the stored headers, and a rebuilt body byte-identical to what the receiver got", async () => {
    const r = await receiver();
    const { id: subId, secret } = await subscribe(`${r.url}/hooks`);
    let calls = 0;
    r.responder = (_, res) =>
      void res
        .writeHead(++calls === 1 ? 503 : 200, { 'content-type': 'text/plain', 'retry-after': '0', 'x-not-kept': 'secret-ish' })
        .end(calls === 1 ? 'busy' : 'ok');
    const call = await createBooking(api, app, { metadata: { note: 'unicode ✓ "quoted" \\ slash', nested: { n: 1.5 } } });
    const [listed] = await waitFor('the delivery to succeed on its second attempt', async () => {
      const d = await logOf(subId);
      return d[0]?.status === 'succeeded' && d;
    });
    expect(r.requests).toHaveLength(2);
    const detail = await getDelivery(listed.id);
    expect(detail.attempts).toHaveLength(2);
    detail.attempts.forEach((attempt: Record<string, any>, i: number) => {
      const sent = r.requests[i];
      // The body byte for byte, and the stored signature is the HMAC of exactly those bytes.
      expect(Buffer.from(attempt.request_body, 'utf8').equals(sent.rawBody)).toBe(true);
      expect(attempt.request_headers['x-apifycloud-signature']).toBe(hmac(secret, sent.rawBody));
      expect(attempt.request_headers['x-apifycloud-signature']).toBe(hmac(secret, attempt.request_body));
      for (const [name, value] of Object.entries(attempt.request_headers)) expect([name, sent.headers[name]]).toEqual([name, value]);
      expect(Object.keys(attempt.request_headers).sort()).toEqual([
        'accept-encoding',
        'content-type',
        'user-agent',
        'x-apifycloud-delivery',
        'x-apifycloud-event',
        'x-apifycloud-event-id',
        'x-apifycloud-signature',
        'x-apifycloud-timestamp',
      ]);
      expect(JSON.parse(attempt.request_body)).toMatchObject({ attempt: i + 1, payload: { scheduled_call: call } });
    });
    expect(detail.attempts[0]).toMatchObject({ response_status: 503, response_headers: { 'content-type': 'text/plain', 'retry-after': '0' } });
    expect(detail.attempts[0].response_headers).not.toHaveProperty('x-not-kept');
    expect(detail.attempts[1]).toMatchObject({ response_status: 200, response_body: 'ok' });
    expect(JSON.stringify(detail)).not.toContain(secret);
  });

  it("stores the previous secret's signature during a rotation, and never a secret", async () => {
    const r = await receiver();
    const { id: subId, secret: oldSecret } = await subscribe(r.url);
    const rotated = (
      await api.http.post(`/v1/apps/${app.id}/webhook-subscriptions/${subId}/rotate-secret`).set(app.auth).send({ grace_period_seconds: 600 }).expect(200)
    ).body;
    await createBooking(api, app);
    const [listed] = await waitFor('the delivery', async () => {
      const d = await logOf(subId);
      return d[0]?.status === 'succeeded' && d;
    });
    const [attempt] = (await getDelivery(listed.id)).attempts;
    expect(attempt.request_headers['x-apifycloud-signature']).toBe(hmac(rotated.secret, attempt.request_body));
    expect(attempt.request_headers['x-apifycloud-signature-previous']).toBe(hmac(oldSecret, attempt.request_body));
    const stored = JSON.stringify(await api.db.query(`SELECT * FROM webhook_attempts WHERE delivery_id = $1`, [listed.id]));
    expect(stored).not.toContain(oldSecret);
    expect(stored).not.toContain(rotated.secret);
  });

  it('shows no request for an attempt that sent none', async () => {
    const r = await receiver();
    const { id: subId } = await subscribe(r.url);
    await createBooking(api, app);
    const [listed] = await waitFor('the delivery', async () => {
      const d = await logOf(subId);
      return d[0]?.status === 'succeeded' && d;
    });
    // An attempt the retention ended, as the history maintenance writes it: no request went out.
    await api.db.query(
      `INSERT INTO webhook_attempts (delivery_id, event_at, attempt, trigger, started_at, duration_ms, error)
      SELECT id, event_at, 2, 'automatic', now(), 0, 'expired: test' FROM webhook_deliveries WHERE id = $1`,
      [listed.id],
    );
    const detail = await getDelivery(listed.id);
    expect(detail.attempts[1]).toMatchObject({ request_headers: null, request_body: null, response_headers: null, response_status: null });
    expect(detail.attempts[0].request_body).toEqual(expect.any(String));
  });

  it("lists a booking's deliveries across subscriptions, newest first, paged, each with its booking, event id and guest", async () => {
    const [r1, r2] = [await receiver(), await receiver()];
    const tenant = await createVideoApp(api, { name: 'Booking page' });
    const [a, b] = [await subscribe(r1.url, tenant), await subscribe(r2.url, tenant)];
    const call = await createBooking(api, tenant, { guest: { name: 'Ada Lovelace', email: 'ada@example.com' } });
    const unrelated = await createBooking(api, tenant, { guest: { name: 'Someone Else', email: 'else@example.com' } });
    api.clock.advance(1_000);
    await api.http.post(`/v1/apps/${tenant.id}/scheduled-calls/${call.id}/cancel`).set(tenant.auth).send({}).expect(200);
    await waitFor('six deliveries', () => r1.requests.length + r2.requests.length === 6);
    const url = `/v1/apps/${tenant.id}/scheduled-calls/${call.id}/deliveries`;
    const all = (await api.http.get(url).set(tenant.auth).expect(200)).body;
    expect(all.next_cursor).toBeNull();
    expect(all.data).toHaveLength(4);
    expect(all.data.map((d: any) => d.event)).toEqual(['scheduled.cancelled', 'scheduled.cancelled', 'scheduled.created', 'scheduled.created']);
    expect(new Set(all.data.map((d: any) => d.subscription_id))).toEqual(new Set([a.id, b.id]));
    const events = await api.db.query(`SELECT id, type FROM outbox_events WHERE scheduled_call_id = $1`, [call.id]);
    for (const d of all.data) {
      expect(d).toMatchObject({ scheduled_call_id: call.id, guest_name: 'Ada Lovelace', test: false });
      expect(d.event_id).toBe(events.find((e: any) => e.type === d.event).id);
    }
    // Pages of one, following next_cursor, give the same rows in the same order.
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: Array<{ id: string }>; next_cursor: string | null } } = await api.http
        .get(url)
        .query({ limit: 1, ...(cursor ? { cursor } : {}) })
        .set(tenant.auth)
        .expect(200);
      paged.push(...page.body.data.map((d) => d.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(paged).toEqual(all.data.map((d: any) => d.id));
    // The subscription's own log carries the same summary.
    const log = await logOf(a.id, tenant);
    expect(log.find((d: any) => d.scheduled_call_id === unrelated.id)).toMatchObject({ guest_name: 'Someone Else', event: 'scheduled.created' });
  });

  it("answers 404 for an unknown booking or another app's, and 400 for bad paging, changing nothing", async () => {
    const other = await createVideoApp(api, { name: 'Other' });
    const theirs = await createBooking(api, other);
    await api.http.get(`/v1/apps/${app.id}/scheduled-calls/${theirs.id}/deliveries`).set(app.auth).expect(404);
    await api.http.get(`/v1/apps/${other.id}/scheduled-calls/${theirs.id}/deliveries`).set(app.auth).expect(404);
    await api.http.get(`/v1/apps/${app.id}/scheduled-calls/00000000-0000-4000-8000-000000000000/deliveries`).set(app.auth).expect(404);
    const response = await api.http.get(`/v1/apps/${app.id}/scheduled-calls/not-a-uuid/deliveries`).set(app.auth);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    const mine = await createBooking(api, app);
    for (const query of [{ limit: 0 }, { limit: 101 }, { cursor: 'garbage' }, { status: 'failed' }]) {
      const bad = await api.http.get(`/v1/apps/${app.id}/scheduled-calls/${mine.id}/deliveries`).query(query).set(app.auth);
      expect([query, bad.status]).toEqual([query, 400]);
      expect(['invalid_query', 'invalid_cursor']).toContain(bad.body.code);
    }
  });

  it("reads a booking's deliveries through the index, from the booking's weeks only", async () => {
    const tenant = await createVideoApp(api, { name: 'Planner' });
    const { id: subId } = await subscribe('http://127.0.0.1:9/never', tenant);
    const call = await createBooking(api, tenant);
    // Four past weeks of history, and many deliveries of other bookings in this week.
    await api.db.query(`SELECT history_create_partitions((now() - make_interval(days => 7 * w))::date) FROM generate_series(1, 4) AS w`);
    await api.db.query(
      `
      INSERT INTO webhook_deliveries (id, event_at, app_id, subscription_id, event_id, scheduled_call_id, event, status, attempt_count, created_at, updated_at)
      SELECT uuid_v7_at(t), t, $1, $2, gen_random_uuid(), gen_random_uuid(), 'scheduled.created', 'succeeded', 1, t, t
        FROM (SELECT now() - make_interval(secs => g * 60) AS t FROM generate_series(1, 20000) AS g) s`,
      [tenant.id, subId],
    );
    await api.db.query(`ANALYZE webhook_deliveries`);
    const service = api.app.get(WebhookDeliveriesRepository);
    const [sql, params] = service.scheduledCallDeliveriesQuery(tenant.id, call.id, new Date(call.created_at), 21).getQueryAndParameters();
    const plan = (await api.db.query(`EXPLAIN ${sql}`, params)).map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
    // The index on (scheduled_call_id, event_at, id) in the partition holding the 20,000 rows; a
    // sequential scan only ever of partitions the planner knows to be empty (next week, DEFAULT).
    const thisWeek: string = (await api.db.query(`SELECT to_char(date_trunc('week', now()), 'YYYYMMDD') AS d`))[0].d;
    expect(plan).toMatch(new RegExp(`Index Scan using webhook_deliveries_p${thisWeek}_scheduled_call_id_event_at_id_idx`));
    expect(plan).not.toMatch(new RegExp(`Seq Scan on webhook_deliveries_p${thisWeek}`));
    // The weeks before the booking's creation (less a day) are pruned.
    const weeks: string[] = (
      await api.db.query(`SELECT to_char(date_trunc('week', now() - make_interval(days => 7 * w)), 'YYYYMMDD') AS d FROM generate_series(2, 4) AS w`)
    ).map((row: { d: string }) => row.d);
    for (const week of weeks) expect(plan).not.toContain(`webhook_deliveries_p${week}`);
  });
});
