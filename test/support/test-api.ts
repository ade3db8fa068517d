import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createApiApp } from '../../apps/api/src/api-app';
import { readApiConfig } from '../../apps/api/src/config/api-config';
import { createDataSource } from '../../libs/shared/src/database/data-source';
import { AppLogger } from '../../libs/shared/src/logging/app-logger';
import type { TracingOverrides } from '../../libs/shared/src/tracing/tracing';
import { createTestDatabase } from './database';
import { FakeClock } from './fake-clock';
import { OPERATOR_TOKEN, queuePrefix, TEST_REDIS_URL } from './test-env';

export interface TestApi {
  app: NestFastifyApplication;
  http: ReturnType<typeof request>;
  clock: FakeClock;
  databaseUrl: string;
  /** A direct connection to the test database, for asserting what was written. */
  db: DataSource;
  env: Record<string, string>;
  close(): Promise<void>;
}

/** The real API app on its own fresh database, listening on a loopback port. */
export async function startTestApi(
  extraEnv: Record<string, string> = {},
  options: { tracing?: TracingOverrides; logDestination?: { write(line: string): unknown } } = {},
): Promise<TestApi> {
  const databaseUrl = await createTestDatabase();
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    ADMIN_TOKEN: OPERATOR_TOKEN,
    // Each API (each test file) its own key prefix, so parallel files never take each other's deliveries.
    QUEUE_PREFIX: `${queuePrefix()}-${randomBytes(3).toString('hex')}`,
    LOG_LEVEL: 'error',
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    ...extraEnv,
  };
  const clock = new FakeClock();
  const app = await listeningApp(env, clock, options.tracing, options.logDestination);
  const db = createDataSource(databaseUrl, 2, 'test-assertions');
  await db.initialize();
  return {
    app,
    http: request(app.getHttpServer()),
    clock,
    databaseUrl,
    db,
    env,
    async close() {
      await app.close();
      await db.destroy();
    },
  };
}

/**
 * Another API process beside `api`: same database, same Redis prefix, same clock, its own caches
 * (what a second replica behind a load balancer is). Closing it leaves `api` running.
 */
export async function startSecondApi(api: TestApi): Promise<TestApi> {
  const app = await listeningApp(api.env, api.clock);
  return {
    ...api,
    app,
    http: request(app.getHttpServer()),
    async close() {
      await app.close();
    },
  };
}

async function listeningApp(
  env: Record<string, string>,
  clock: FakeClock,
  tracing?: TracingOverrides,
  logDestination?: { write(line: string): unknown },
): Promise<NestFastifyApplication> {
  const config = readApiConfig(env);
  const logger = logDestination && new AppLogger({ service: 'api', format: config.logFormat, level: config.logLevel, destination: logDestination });
  const app = await createApiApp(config, { clock, tracing, logger });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}

export const operator = { authorization: `Bearer ${OPERATOR_TOKEN}` };

export function bearer(key: string): { authorization: string } {
  return { authorization: `Bearer ${key}` };
}

export interface TestVideoApp {
  id: string;
  apiKey: string;
  auth: { authorization: string };
}

export async function createVideoApp(api: TestApi, body: Record<string, unknown> = { name: 'Acme Video' }): Promise<TestVideoApp> {
  const response = await api.http.post('/v1/apps').set(operator).send(body).expect(201);
  return { id: response.body.id, apiKey: response.body.api_key, auth: bearer(response.body.api_key) };
}

/** A valid create body, one hour after the API's clock. */
export function bookingBody(api: TestApi, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    scheduled_at: new Date(api.clock.now().getTime() + 3_600_000).toISOString(),
    duration_minutes: 30,
    timezone: 'Europe/Paris',
    guest: { name: 'Grace Guest', email: 'grace@example.com', phone: '+14155550100' },
    agent: { id: 'agent-7', name: 'Alan Agent', email: 'alan@example.com' },
    metadata: { source: 'test' },
    ...overrides,
  };
}

export async function createBooking(api: TestApi, app: TestVideoApp, overrides: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const response = await api.http.post(`/v1/apps/${app.id}/scheduled-calls`).set(app.auth).send(bookingBody(api, overrides)).expect(201);
  return response.body;
}

export async function outboxEvents(
  api: TestApi,
  scheduledCallId?: string,
): Promise<Array<{ id: string; type: string; payload: any; scheduled_call_id: string }>> {
  return scheduledCallId
    ? api.db.query('SELECT * FROM outbox_events WHERE scheduled_call_id = $1 ORDER BY seq', [scheduledCallId])
    : api.db.query('SELECT * FROM outbox_events ORDER BY seq');
}

/** A webhook subscription of `tenant` to `url` (every event by default), with its secret. */
export async function createSubscription(api: TestApi, tenant: TestVideoApp, url: string, events: string[] = ['*']): Promise<{ id: string; secret: string }> {
  const response = await api.http.post(`/v1/apps/${tenant.id}/webhook-subscriptions`).set(tenant.auth).send({ url, events }).expect(201);
  return { id: response.body.id, secret: response.body.secret };
}
