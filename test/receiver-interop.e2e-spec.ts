import express from 'express';
import type { Server } from 'node:http';
import { apifyCloudWebhook } from '../libs/receiver/src/express';
import { MemoryIdempotencyStore } from '../libs/receiver/src';
import { createBooking, createVideoApp, startTestApi, TestApi, TestVideoApp } from './support/test-api';
import { startTestWorker, TestWorker } from './support/test-worker';
import { waitFor } from './support/wait-for';

/** The platform's real worker against an Express app built with the published receiver package. */
describe('Receiver package interop', () => {
  let api: TestApi;
  let worker: TestWorker;
  let app: TestVideoApp;
  let server: Server;
  let secrets: string[] = [];
  const handled: Array<{ id: string; event: string; attempt: number }> = [];
  const answers: number[] = [];

  beforeAll(async () => {
    api = await startTestApi({ WEBHOOK_RETRY_SCHEDULE: '0s,100ms,100ms' });
    worker = await startTestWorker(api);
    app = await createVideoApp(api);
    const receiver = express();
    const store = new MemoryIdempotencyStore();
    receiver.use((req: express.Request, res: express.Response, next: express.NextFunction) => {
      res.on('finish', () => answers.push(res.statusCode));
      next();
    });
    receiver.post(
      '/hooks',
      (req, res, next) => apifyCloudWebhook({ secret: secrets, idempotency: store })(req, res, next),
      (req, res) => {
        handled.push({ id: req.body.id, event: req.body.event, attempt: req.body.attempt });
        res.sendStatus(204);
      },
    );
    server = await new Promise<Server>((resolve) => {
      const s = receiver.listen(0, '127.0.0.1', () => resolve(s));
    });
  });
  afterAll(async () => {
    await worker.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await api.close();
  });

  it('verifies every delivery, through a rotation, and runs the handler once per event despite a re-delivery', async () => {
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks`;
    const sub = (
      await api.http
        .post(`/v1/apps/${app.id}/webhook-subscriptions`)
        .set(app.auth)
        .send({ url, events: ['*'] })
        .expect(201)
    ).body;
    secrets = [sub.secret];
    const call = await createBooking(api, app, { requires_confirmation: true });
    await api.http.post(`/v1/apps/${app.id}/scheduled-calls/${call.id}/confirm`).set(app.auth).expect(200);
    await waitFor('two handled events', () => handled.length === 2);

    // The receiver learns only the new secret: the platform's current signature must verify alone.
    const rotated = (
      await api.http.post(`/v1/apps/${app.id}/webhook-subscriptions/${sub.id}/rotate-secret`).set(app.auth).send({ grace_period_seconds: 600 }).expect(200)
    ).body;
    secrets = [rotated.secret];
    await api.http.post(`/v1/apps/${app.id}/scheduled-calls/${call.id}/cancel`).set(app.auth).send({ reason: 'interop' }).expect(200);
    await waitFor('three handled events', () => handled.length === 3);
    // Deliveries are concurrent, so created and confirmed may arrive in either order (SPEC: receivers order by version).
    expect(handled.map((h) => h.event).sort()).toEqual(['scheduled.cancelled', 'scheduled.confirmed', 'scheduled.created']);

    // A manual retry re-sends an event the receiver already handled: answered 2xx, handler not run again.
    const [first] = (
      await api.http.get(`/v1/apps/${app.id}/webhook-subscriptions/${sub.id}/deliveries`).query({ limit: 100 }).set(app.auth).expect(200)
    ).body.data.slice(-1);
    await api.http.post(`/v1/apps/${app.id}/webhook-deliveries/${first.id}/retry`).set(app.auth).expect(202);
    const retried = await waitFor('the manual attempt logged', async () => {
      const d = (await api.http.get(`/v1/apps/${app.id}/webhook-deliveries/${first.id}`).set(app.auth)).body;
      return d.attempts.length === 2 && d;
    });
    expect(retried.attempts[1]).toMatchObject({ attempt: 2, trigger: 'manual', response_status: expect.any(Number) });
    expect(retried.attempts[1].response_status).toBeGreaterThanOrEqual(200);
    expect(retried.attempts[1].response_status).toBeLessThan(300);
    expect(handled).toHaveLength(3);
    expect(answers.every((status) => status >= 200 && status < 300)).toBe(true);
  });

  it('rejects a delivery signed with a secret it does not hold, so the platform retries it', async () => {
    secrets = ['whsec_not-the-right-one-at-all-0000000000000000'];
    const before = handled.length;
    await createBooking(api, app);
    await waitFor('a rejected attempt', () => answers.some((status) => status === 401 || status === 400));
    expect(handled).toHaveLength(before);
  });
});
