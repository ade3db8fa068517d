import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createVideoApp, operator, startTestApi, TestApi, TestVideoApp } from './support/test-api';
import { TestReceiver } from './support/test-receiver';
import { waitFor } from './support/wait-for';
import { WorkerProcess } from './support/worker-process';

jest.setTimeout(60_000);

const ROOT = join(__dirname, '..');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const GUEST = 'Zebulon Logmarker';

type Line = Record<string, unknown>;

function parseLines(text: string): Line[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Line;
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
    });
}

describe('Structured logs', () => {
  let api: TestApi;
  let app: TestVideoApp;
  let receiver: TestReceiver;
  let worker: WorkerProcess | undefined;
  const written: string[] = [];
  const apiLines = () => parseLines(written.join(''));

  beforeAll(async () => {
    api = await startTestApi(
      { LOG_FORMAT: 'json', LOG_LEVEL: 'info', WEBHOOK_RETRY_SCHEDULE: '0s,200ms,200ms' },
      { logDestination: { write: (line) => written.push(line) } },
    );
    app = await createVideoApp(api);
    receiver = await new TestReceiver().start();
  });
  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await receiver.stop();
    await api.close();
  });

  it("gives every request an id: the caller's X-Request-Id when usable, echoed, in problem bodies and on its access line", async () => {
    const kept = await api.http.get(`/v1/apps/${app.id}/no-such-thing`).set(app.auth).set('X-Request-Id', 'edge-7f3a:42').expect(404);
    expect(kept.headers['x-request-id']).toBe('edge-7f3a:42');
    expect(kept.body.request_id).toBe('edge-7f3a:42');

    const replaced = await api.http.get(`/v1/apps/${app.id}`).set(app.auth).set('X-Request-Id', 'not usable: spaces and "quotes"').expect(200);
    expect(replaced.headers['x-request-id']).toMatch(UUID);

    const invalid = await api.http
      .post(`/v1/apps/${app.id}/scheduled-calls`)
      .set(app.auth)
      .set('content-type', 'application/json')
      .send('{"broken":')
      .expect(400);
    expect(invalid.body.request_id).toBe(invalid.headers['x-request-id']);
    expect(invalid.body.request_id).toMatch(UUID);

    const access = apiLines().filter((l) => l.context === 'HTTP');
    expect(access).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          level: 'info',
          service: 'api',
          request_id: 'edge-7f3a:42',
          method: 'GET',
          route: null,
          status: 404,
          duration_ms: expect.any(Number),
        }),
        expect.objectContaining({ request_id: replaced.headers['x-request-id'], route: '/v1/apps/:appId', status: 200 }),
        expect.objectContaining({ request_id: invalid.headers['x-request-id'], method: 'POST', status: 400 }),
      ]),
    );
  });

  it('puts the request id on the lines a request writes, and no secret, key or payload on any line', async () => {
    const key = await api.http.post(`/v1/apps/${app.id}/api-keys`).set(operator).set('X-Request-Id', 'req-key-1').send({ name: 'logging test' }).expect(201);
    const sub = await api.http
      .post(`/v1/apps/${app.id}/webhook-subscriptions`)
      .set(app.auth)
      .set('X-Request-Id', 'req-sub-1')
      .send({ url: `${receiver.url}/hooks?token=receiver-own-token`, events: ['*'] })
      .expect(201);
    await api.http.post(`/v1/apps/${app.id}/webhook-subscriptions/${sub.body.id}/rotate-secret`).set(app.auth).send({}).expect(200);
    await api.http
      .post(`/v1/apps/${app.id}/scheduled-calls`)
      .set(app.auth)
      .send({
        scheduled_at: new Date(api.clock.now().getTime() + 3_600_000).toISOString(),
        duration_minutes: 15,
        guest: { name: GUEST, email: 'logmarker@example.com' },
      })
      .expect(201);

    const lines = apiLines();
    expect(lines.find((l) => l.msg === `API key ${key.body.id as string} issued for app ${app.id}`)).toMatchObject({
      request_id: 'req-key-1',
      context: 'ApiKeysService',
    });
    expect(lines.find((l) => String(l.msg).includes(`Subscription ${sub.body.id as string}`))).toMatchObject({
      request_id: 'req-sub-1',
      msg: expect.stringContaining(new URL(receiver.url).origin),
    });
    const all = written.join('');
    for (const secret of [key.body.api_key, app.apiKey, sub.body.secret, 'receiver-own-token', GUEST, 'logmarker@example.com']) {
      expect(all).not.toContain(secret);
    }
  });

  it('puts the delivery, subscription and event ids and the attempt on every line the worker writes for an attempt, as JSON', async () => {
    let calls = 0;
    receiver.responder = (_, res) => void res.writeHead(calls++ === 0 ? 500 : 200).end('ok');
    worker = new WorkerProcess({ ...api.env, LOG_FORMAT: 'json', LOG_LEVEL: 'info' });
    await waitFor('the worker to start', () => worker!.started, 30_000);
    const [delivery] = await waitFor(
      'a delivery to succeed after one failure',
      async () => {
        const rows: Array<{ id: string; subscription_id: string; event_id: string }> = await api.db.query(
          `SELECT id, subscription_id, event_id FROM webhook_deliveries WHERE app_id = $1 AND status = 'succeeded' AND attempt_count = 2`,
          [app.id],
        );
        return rows.length > 0 && rows;
      },
      30_000,
    );
    const lines = await waitFor("the failed attempt's line", () => {
      const parsed = parseLines(worker!.output);
      return parsed.some((l) => l.delivery_id === delivery.id) && parsed;
    });
    expect(lines.every((l) => l.service === 'worker' && typeof l.level === 'string' && typeof l.time === 'string')).toBe(true);
    expect(lines.find((l) => l.delivery_id === delivery.id)).toMatchObject({
      level: 'info',
      context: 'WebhookDeliveryProcessor',
      subscription_id: delivery.subscription_id,
      event_id: delivery.event_id,
      attempt: 1,
      msg: expect.stringContaining('attempt 1 failed'),
    });
    expect(worker.output).not.toContain(GUEST);
  });

  it('writes only JSON lines in production, from the migration step at start to the shutdown', async () => {
    // A database of its own (dropped with the run's), so the migration step logs before the app exists.
    const env = {
      ...process.env,
      ...api.env,
      DATABASE_URL: `${api.env.DATABASE_URL}_fresh`,
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      SECRETS_KEY: 'a-production-secrets-key-of-32-characters',
      PORT: '0',
      HOST: '127.0.0.1',
    };
    delete (env as Record<string, string | undefined>).LOG_FORMAT;
    const child = spawn(process.execPath, ['-r', join(ROOT, 'test/support/ts-hook.js'), join(ROOT, 'apps/api/src/main.ts')], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await waitFor('the API to listen', () => output.includes('API listening'), 30_000);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    const lines = parseLines(output);
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.every((l) => l.service === 'api')).toBe(true);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ context: 'API', msg: expect.stringMatching(/^Applied migrations: /) }),
        expect.objectContaining({ context: 'NestFactory' }),
      ]),
    );
  });

  it('reports a start failure as one fatal JSON line in production', async () => {
    const env = { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ADMIN_TOKEN: 'a-long-enough-operator-token', DATABASE_URL: api.env.DATABASE_URL };
    const run = await promisify(execFile)(process.execPath, ['-r', join(ROOT, 'test/support/ts-hook.js'), join(ROOT, 'apps/api/src/main.ts')], {
      cwd: ROOT,
      env,
    }).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => error,
    );
    expect(run.code).toBe(1);
    const lines = parseLines(run.stdout);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'fatal', service: 'api', msg: expect.stringContaining('SECRETS_KEY is required') });
  });
});
