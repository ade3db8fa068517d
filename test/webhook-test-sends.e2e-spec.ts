import express from 'express';
import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import { apifyCloudWebhook } from '../libs/receiver/src/express';
import { MemoryIdempotencyStore } from '../libs/receiver/src';
import { TEST_SENDS_PER_WINDOW } from '../apps/api/src/webhooks/webhook-test-sends.service';
import { BOOKING_EVENT_TYPES } from '../libs/shared/src/events/booking-events';
import { DeliveryQueue } from '../libs/shared/src/webhooks/delivery-queue';
import { createBooking, createSubscription, createVideoApp, startTestApi, TestApi, TestVideoApp } from './support/test-api';
import { TestReceiver, TestReceivers } from './support/test-receiver';
import { startTestWorker, TestWorker } from './support/test-worker';
import { waitFor } from './support/wait-for';

/** `POST …/webhook-subscriptions/{id}/test`: an example event, signed and sent by the worker like any delivery. */
describe('Test sends', () => {
  let api: TestApi;
  let worker: TestWorker;
  let app: TestVideoApp;
  const receivers = new TestReceivers();

  beforeAll(async () => {
    api = await startTestApi({ WEBHOOK_RETRY_SCHEDULE: '0s,100ms,100ms', WEBHOOK_TIMEOUT_MS: '2000' });
    worker = await startTestWorker(api);
    app = await createVideoApp(api, { name: 'Tester' });
  });
  afterAll(async () => {
    await worker.close();
    await receivers.stopAll();
    await api.close();
  });

  const receiver = (): Promise<TestReceiver> => receivers.start();

  const subscribe = (url: string, tenant = app) => createSubscription(api, tenant, url);

  const sendTest = (subId: string, body: object = {}, tenant = app) =>
    api.http.post(`/v1/apps/${tenant.id}/webhook-subscriptions/${subId}/test`).set(tenant.auth).send(body);
  const getDelivery = async (id: string, tenant = app) =>
    (await api.http.get(`/v1/apps/${tenant.id}/webhook-deliveries/${id}`).set(tenant.auth).expect(200)).body;
  const getSub = async (id: string, tenant = app) =>
    (await api.http.get(`/v1/apps/${tenant.id}/webhook-subscriptions/${id}`).set(tenant.auth).expect(200)).body;
  const finished = (id: string, tenant = app) =>
    waitFor(`test delivery ${id} to finish`, async () => {
      const d = await getDelivery(id, tenant);
      return ['succeeded', 'failed'].includes(d.status) && d;
    });

  it('sends every event type with "test": true and an example record that the receiver package verifies and accepts', async () => {
    const handled: Array<Record<string, any>> = [];
    const answers: number[] = [];
    let secret = '';
    const server = express();
    server.use((_req: express.Request, res: express.Response, next: express.NextFunction) => {
      res.on('finish', () => answers.push(res.statusCode));
      next();
    });
    server.post(
      '/hooks',
      (req, res, next) => apifyCloudWebhook({ secret, idempotency: new MemoryIdempotencyStore() })(req, res, next),
      (req, res) => {
        handled.push(req.body);
        res.sendStatus(204);
      },
    );
    const listening: Server = await new Promise((resolve) => {
      const s = server.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const sub = await subscribe(`http://127.0.0.1:${(listening.address() as { port: number }).port}/hooks`);
      secret = sub.secret;
      const sent: Array<Record<string, any>> = [];
      for (const event of BOOKING_EVENT_TYPES) sent.push((await sendTest(sub.id, { event }).expect(202)).body);
      expect(sent.map((d) => d.event)).toEqual([...BOOKING_EVENT_TYPES]);
      for (const d of sent)
        expect(d).toMatchObject({ subscription_id: sub.id, test: true, scheduled_call_id: null, guest_name: null, status: 'pending', attempt_count: 0 });
      await waitFor('five handled test events', () => handled.length === 5);
      expect(answers).toEqual([204, 204, 204, 204, 204]);
      expect(handled.map((body) => body.event).sort()).toEqual([...BOOKING_EVENT_TYPES].sort());
      for (const body of handled) {
        expect(body).toMatchObject({ test: true, subscription_id: sub.id, attempt: 1 });
        expect(body.payload.scheduled_call.app_id).toBe(app.id);
      }
      const byEvent = Object.fromEntries(handled.map((body) => [body.event, body.payload.scheduled_call]));
      expect(byEvent['scheduled.no_show']).toMatchObject({ status: 'no_show', no_show_at: expect.any(String) });
      expect(byEvent['scheduled.cancelled']).toMatchObject({ status: 'cancelled', cancelled_at: expect.any(String) });
      // Logged with trigger `test`, and the rebuilt body is byte-identical to what the receiver verified.
      for (const d of sent) {
        const detail = await finished(d.id);
        expect(detail).toMatchObject({ status: 'succeeded', attempt_count: 1, test: true });
        expect(detail.attempts).toEqual([expect.objectContaining({ attempt: 1, trigger: 'test', response_status: 204 })]);
        const body = detail.attempts[0].request_body;
        expect(JSON.parse(body)).toEqual(handled.find((h) => h.id === d.event_id));
        expect(detail.attempts[0].request_headers['x-apifycloud-signature']).toBe(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
      }
    } finally {
      listening.closeAllConnections();
      await new Promise((resolve) => listening.close(resolve));
    }
  });

  it('defaults to scheduled.created, is sent to that subscription only, and appears in its delivery log', async () => {
    const [r1, r2] = [await receiver(), await receiver()];
    const tenant = await createVideoApp(api, { name: 'Only one' });
    const target = await subscribe(r1.url, tenant);
    await subscribe(r2.url, tenant);
    const d = (await sendTest(target.id, {}, tenant).expect(202)).body;
    expect(d.event).toBe('scheduled.created');
    await finished(d.id, tenant);
    expect(r1.requests).toHaveLength(1);
    const [request] = r1.requests;
    expect(Object.keys(request.json)).toEqual(['id', 'subscription_id', 'event', 'deliveredAt', 'attempt', 'test', 'payload']);
    expect(request.headers).toMatchObject({
      'x-apifycloud-event': 'scheduled.created',
      'x-apifycloud-delivery': `${target.id}:1`,
      'x-apifycloud-event-id': d.event_id,
    });
    expect(request.json.payload.scheduled_call).toMatchObject({ status: 'scheduled', version: 1 });
    // A real event afterwards reaches both subscriptions; the test event reached only one (the fan-out never saw it).
    api.clock.advance(1_000); // the API's clock stands still: a later event, so the log's order is known
    await createBooking(api, tenant);
    await waitFor('the booking event at both', () => r1.requests.length === 2 && r2.requests.length === 1);
    expect(r2.requests[0].json.test).toBeUndefined();
    expect(r1.requests[1].json).not.toHaveProperty('test');
    const log = (await api.http.get(`/v1/apps/${tenant.id}/webhook-subscriptions/${target.id}/deliveries`).set(tenant.auth).expect(200)).body.data;
    expect(log.map((row: any) => row.test)).toEqual([false, true]);
    expect(log[1]).toMatchObject({ id: d.id, scheduled_call_id: null, guest_name: null, status: 'succeeded' });
  });

  it('is sent while the subscription is paused or its circuit open, and leaves its health and held deliveries as they were', async () => {
    const r = await receiver();
    const tenant = await createVideoApp(api, { name: 'Probe' });
    const sub = await subscribe(r.url, tenant);
    await api.http.post(`/v1/apps/${tenant.id}/webhook-subscriptions/${sub.id}/pause`).set(tenant.auth).expect(200);
    await createBooking(api, tenant);
    const paused = await waitFor('the held delivery', async () => {
      const s = await getSub(sub.id, tenant);
      return s.health.held_count === 1 && s.last_delivery?.status === 'held' && s;
    });
    r.answer(500, 'still broken');
    const failed = await finished((await sendTest(sub.id, { event: 'scheduled.cancelled' }, tenant).expect(202)).body.id, tenant);
    // One attempt, no retry scheduled, and the subscription exactly as before.
    expect(failed).toMatchObject({ status: 'failed', attempt_count: 1, next_attempt_at: null });
    expect(failed.attempts).toEqual([expect.objectContaining({ trigger: 'test', response_status: 500, error: 'HTTP 500' })]);
    expect(r.requests.map((q) => q.json.test)).toEqual([true]);
    const after = await getSub(sub.id, tenant);
    expect({ ...after, updated_at: undefined }).toEqual({ ...paused, updated_at: undefined });
    await api.http
      .post(`/v1/apps/${tenant.id}/webhook-deliveries/${failed.id}/retry`)
      .set(tenant.auth)
      .expect(409)
      .expect((res) => expect(res.body.code).toBe('test_delivery'));

    // Open circuit: the booking delivery waits on it, the test send does not.
    await api.http.post(`/v1/apps/${tenant.id}/webhook-subscriptions/${sub.id}/resume`).set(tenant.auth).send({ replay_held: false }).expect(200);
    const retryAt = new Date(Date.now() + 3_600_000);
    await api.db.query(`UPDATE webhook_subscriptions SET circuit_state = 'open', circuit_retry_at = $2, circuit_failures = 5 WHERE id = $1`, [sub.id, retryAt]);
    await api.app.get(DeliveryQueue).scheduler.setCircuit(sub.id, retryAt);
    expect((await getSub(sub.id, tenant)).health.circuit).toBe('open');
    r.answer(200, 'ok');
    const call = await createBooking(api, tenant);
    await waitFor(
      'the booking delivery, waiting on the circuit',
      async () => (await api.http.get(`/v1/apps/${tenant.id}/scheduled-calls/${call.id}/deliveries`).set(tenant.auth).expect(200)).body.data.length === 1,
    );
    const probe = await finished((await sendTest(sub.id, {}, tenant).expect(202)).body.id, tenant);
    expect(probe.status).toBe('succeeded');
    const waiting = (await api.http.get(`/v1/apps/${tenant.id}/scheduled-calls/${call.id}/deliveries`).set(tenant.auth).expect(200)).body.data;
    expect(waiting).toEqual([expect.objectContaining({ status: 'pending', attempt_count: 0 })]);
    expect(r.requests.filter((q) => !q.json.test)).toHaveLength(0);
    expect((await getSub(sub.id, tenant)).health).toMatchObject({ circuit: 'open', consecutive_failures: 0 });
  });

  it('leaves the subscription active when the endpoint answers a test send 410 Gone', async () => {
    const r = await receiver();
    const sub = await subscribe(r.url);
    r.answer(410, 'gone');
    const d = await finished((await sendTest(sub.id).expect(202)).body.id);
    expect(d).toMatchObject({ status: 'failed', attempt_count: 1, last_response_status: 410 });
    expect(await getSub(sub.id)).toMatchObject({ status: 'active', paused_reason: null, health: { consecutive_failures: 0 } });
  });

  it('is offered again by the sweep when Redis lost it, in its own lane, past an open circuit', async () => {
    const r = await receiver();
    const sub = await subscribe(r.url);
    const retryAt = new Date(Date.now() + 3_600_000);
    await api.db.query(`UPDATE webhook_subscriptions SET circuit_state = 'open', circuit_retry_at = $2, circuit_failures = 5 WHERE id = $1`, [sub.id, retryAt]);
    await api.app.get(DeliveryQueue).scheduler.setCircuit(sub.id, retryAt);
    // What POST …/test writes, without the offer to Redis (as if Redis had been flushed since).
    const [{ id }] = await api.db.query(
      `WITH e AS (
         INSERT INTO outbox_events (id, app_id, scheduled_call_id, type, payload, occurred_at)
         VALUES (gen_random_uuid(), $1, NULL, 'scheduled.created', $3::json, date_trunc('milliseconds', now() - interval '2 seconds')) RETURNING id, occurred_at
       )
       INSERT INTO webhook_deliveries (id, event_at, app_id, subscription_id, event_id, scheduled_call_id, event, status, attempt_count, next_attempt_at, next_trigger, created_at, updated_at)
       SELECT uuid_v7_at(occurred_at), occurred_at, $1, $2, id, NULL, 'scheduled.created', 'pending', 0, occurred_at, 'test', occurred_at, occurred_at FROM e RETURNING id`,
      [app.id, sub.id, JSON.stringify({ scheduled_call: { id: 'example' } })],
    );
    expect(await api.db.query(`SELECT 1 FROM outbox_pending`)).toEqual([]);
    const d = await finished(id);
    expect(d).toMatchObject({ status: 'succeeded', test: true, attempts: [expect.objectContaining({ trigger: 'test', response_status: 200 })] });
    expect(r.requests.map((q) => q.json.test)).toEqual([true]);
  });

  it(`answers 429 with Retry-After beyond ${TEST_SENDS_PER_WINDOW} test sends a minute to one subscription, and again after the minute`, async () => {
    const r = await receiver();
    const sub = await subscribe(r.url);
    const other = await subscribe(r.url);
    for (let i = 0; i < TEST_SENDS_PER_WINDOW; i++) await sendTest(sub.id).expect(202);
    const count = async () => (await api.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE subscription_id = $1`, [sub.id]))[0].n;
    const before = await count();
    const refused = await sendTest(sub.id).expect(429);
    expect(refused.body.code).toBe('too_many_test_sends');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(await count()).toBe(before);
    await sendTest(other.id).expect(202); // another subscription has its own budget
    await waitFor('the test sends delivered', () => r.requests.length === TEST_SENDS_PER_WINDOW + 1);
    // A minute later the budget is back (the clock moves back at once: the worker runs on real time).
    api.clock.advance(61_000);
    try {
      await sendTest(sub.id).expect(202);
    } finally {
      api.clock.advance(-61_000);
    }
  });

  it("refuses an unknown event type with 422, another app's subscription with 404, and unknown fields, changing nothing", async () => {
    const r = await receiver();
    const sub = await subscribe(r.url);
    const other = await createVideoApp(api, { name: 'Stranger' });
    const count = async () =>
      (await api.db.query(`SELECT (SELECT count(*) FROM webhook_deliveries)::int AS d, (SELECT count(*) FROM outbox_events)::int AS e`))[0];
    const before = await count();
    for (const body of [{ event: 'scheduled.started' }, { event: '*' }, { event: null }, { event: 5 }, { events: ['scheduled.created'] }]) {
      const response = await sendTest(sub.id, body).expect(422);
      expect(response.body.code).toBe('validation_failed');
    }
    await sendTest(sub.id, {}, other).expect(404);
    await api.http.post(`/v1/apps/${app.id}/webhook-subscriptions/${sub.id}/test`).set(other.auth).send({}).expect(404);
    expect(await count()).toEqual(before);
    expect(r.requests).toHaveLength(0);
  });
});
