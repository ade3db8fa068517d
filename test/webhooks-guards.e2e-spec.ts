import { createBooking, createVideoApp, startTestApi, TestApi, TestVideoApp } from './support/test-api';
import { TestReceiver } from './support/test-receiver';
import { startTestWorker, TestWorker } from './support/test-worker';
import { waitFor } from './support/wait-for';

describe('Webhook SSRF guard (private URLs not allowed)', () => {
  let api: TestApi;
  let worker: TestWorker;
  let app: TestVideoApp;
  let receiver: TestReceiver;

  beforeAll(async () => {
    api = await startTestApi({ WEBHOOK_ALLOW_PRIVATE_URLS: 'false', WEBHOOK_RETRY_SCHEDULE: '0s' });
    worker = await startTestWorker(api, { WEBHOOK_ALLOW_PRIVATE_URLS: 'false' });
    app = await createVideoApp(api);
    receiver = await new TestReceiver().start();
  });
  afterAll(async () => {
    await worker.close();
    await receiver.stop();
    await api.close();
  });

  it.each([
    'http://127.0.0.1/',
    'http://127.0.0.53:8080/hook',
    'http://2130706433/',
    'http://0x7f000001/',
    'http://127.1/',
    'http://0177.0.0.1/',
    'http://0.0.0.0/',
    'http://0/',
    'http://10.0.0.5/',
    'http://172.16.3.4/',
    'http://192.168.0.10/',
    'http://100.64.1.1/',
    'http://169.254.169.254/latest/meta-data/',
    'http://224.0.0.1/',
    'http://[::1]/',
    'http://[::]/',
    'http://[::ffff:7f00:1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[fe80::1]/',
    'http://[fc00::1]/',
    'http://[fd00:ec2::254]/',
    'http://[64:ff9b::7f00:1]/',
    'http://[2002:7f00:1::]/',
    'http://[ff02::1]/',
    'http://localhost/',
    'http://localhost:3000/hooks',
  ])('refuses %s with 422 and creates nothing', async (url) => {
    const response = await api.http
      .post(`/v1/apps/${app.id}/webhook-subscriptions`)
      .set(app.auth)
      .send({ url, events: ['*'] })
      .expect(422);
    expect(['url_not_allowed', 'url_unresolvable']).toContain(response.body.code);
    expect((await api.db.query('SELECT count(*)::int AS n FROM webhook_subscriptions'))[0].n).toBe(0);
  });

  it('refuses the same URLs on update', async () => {
    const sub = await api.db.query(
      `INSERT INTO webhook_subscriptions (id, app_id, url, events, status, secret_ciphertext, created_at, updated_at)
       VALUES (gen_random_uuid(), $1, 'https://example.com/hook', '{*}', 'active', '\\x00', now(), now()) RETURNING id`,
      [app.id],
    );
    const response = await api.http
      .patch(`/v1/apps/${app.id}/webhook-subscriptions/${sub[0].id}`)
      .set(app.auth)
      .send({ url: 'http://[::ffff:a00:1]/' })
      .expect(422);
    expect(response.body.code).toBe('url_not_allowed');
    await api.db.query('DELETE FROM webhook_subscriptions WHERE id = $1', [sub[0].id]);
  });

  it('refuses at connect time a name that resolves to loopback, even if the URL got in', async () => {
    // As if DNS had answered a public address when the subscription was saved (rebinding).
    const created = await api.http
      .post(`/v1/apps/${app.id}/webhook-subscriptions`)
      .set(app.auth)
      .send({ url: 'https://93.184.216.34/hook', events: ['*'] });
    expect(created.status).toBe(201);
    const port = new URL(receiver.url).port;
    await api.db.query(`UPDATE webhook_subscriptions SET url = $2 WHERE id = $1`, [created.body.id, `http://localhost:${port}/hook`]);
    await createBooking(api, app);
    const [d] = await waitFor('the refused attempt', async () => {
      const list = (await api.http.get(`/v1/apps/${app.id}/webhook-subscriptions/${created.body.id}/deliveries`).set(app.auth)).body.data;
      return list[0]?.status === 'failed' && list;
    });
    const detail = (await api.http.get(`/v1/apps/${app.id}/webhook-deliveries/${d.id}`).set(app.auth).expect(200)).body;
    expect(detail.attempts[0]).toMatchObject({ response_status: null, error: expect.stringContaining('private, loopback or reserved') });
    expect(receiver.requests).toHaveLength(0);
  });
});

describe('Webhook auto-pause', () => {
  let api: TestApi;
  let worker: TestWorker;

  beforeAll(async () => {
    api = await startTestApi({ WEBHOOK_RETRY_SCHEDULE: '0s,100ms,100ms,100ms,100ms,100ms,100ms,100ms', WEBHOOK_AUTO_PAUSE_AFTER: '300ms' });
    worker = await startTestWorker(api, { WEBHOOK_RETRY_SCHEDULE: '0s,100ms,100ms,100ms,100ms,100ms,100ms,100ms', WEBHOOK_AUTO_PAUSE_AFTER: '300ms' });
  });
  afterAll(async () => {
    await worker.close();
    await api.close();
  });

  it('pauses a subscription that failed without a success for the configured time, holds new events, and sends them on resume', async () => {
    const receiver = await new TestReceiver().start();
    try {
      const app = await createVideoApp(api);
      receiver.answer(503);
      const sub = (
        await api.http
          .post(`/v1/apps/${app.id}/webhook-subscriptions`)
          .set(app.auth)
          .send({ url: receiver.url, events: ['*'] })
          .expect(201)
      ).body;
      await createBooking(api, app);
      const paused = await waitFor('the auto-pause', async () => {
        const s = (await api.http.get(`/v1/apps/${app.id}/webhook-subscriptions/${sub.id}`).set(app.auth)).body;
        return s.status === 'paused' && s;
      });
      expect(paused.paused_reason).toBe('auto');
      const sentWhilePaused = receiver.requests.length;
      await createBooking(api, app);
      const list = async () => (await api.http.get(`/v1/apps/${app.id}/webhook-subscriptions/${sub.id}/deliveries`).set(app.auth)).body.data;
      await waitFor('both deliveries held', async () => (await list()).every((d: { status: string }) => d.status === 'held') && (await list()).length === 2);
      expect(receiver.requests.length).toBe(sentWhilePaused);
      receiver.answer(200);
      await api.http.post(`/v1/apps/${app.id}/webhook-subscriptions/${sub.id}/resume`).set(app.auth).send({ replay_held: true }).expect(200);
      await waitFor('both delivered', async () => (await list()).every((d: { status: string }) => d.status === 'succeeded'));
      expect((await api.http.get(`/v1/apps/${app.id}/webhook-subscriptions/${sub.id}`).set(app.auth)).body).toMatchObject({
        status: 'active',
        paused_reason: null,
      });
    } finally {
      await receiver.stop();
    }
  });
});
