import { randomUUID } from 'node:crypto';
import type { Middleware } from 'openapi-fetch';
import { ApiClient, createApiClient } from './support/api-client';
import { OpenApiValidator } from './support/openapi-validator';
import { bookingBody, startTestApi, TestApi } from './support/test-api';
import { OPERATOR_TOKEN } from './support/test-env';
import { TestReceiver } from './support/test-receiver';
import { startTestWorker, TestWorker } from './support/test-worker';
import { waitFor } from './support/wait-for';

/** The problem statuses the document uses; each must be seen at least once, validated. */
const PROBLEM_STATUSES = [400, 401, 403, 404, 409, 413, 415, 422, 429];
const AUTH_FAILURE_LIMIT = 3;

/**
 * Drives every route of the served OpenAPI document through the client generated from it
 * (openapi-fetch over test/support/api-client/schema.d.ts), against the real stack, and validates
 * every answer (status, content type, body) against the document: a route, status, field or type
 * the document does not describe fails here, so the document cannot drift from the code.
 */
describe('OpenAPI contract', () => {
  let api: TestApi;
  let worker: TestWorker;
  let receiver: TestReceiver;
  let validator: OpenApiValidator;
  let baseUrl: string;
  /** `METHOD /path/{template}` -> statuses seen (each answer already validated). */
  const seen = new Map<string, Set<number>>();

  const contract: Middleware = {
    async onResponse({ request, response, schemaPath }) {
      const errors = validator.responseErrors(request.method, schemaPath, response.status, response.headers.get('content-type'), await response.clone().text());
      if (errors.length > 0) throw new Error(`${request.method} ${schemaPath} answered outside the document:\n  ${errors.join('\n  ')}`);
      const key = `${request.method.toUpperCase()} ${schemaPath}`;
      seen.set(key, (seen.get(key) ?? new Set()).add(response.status));
    },
  };

  function client(token?: string): ApiClient {
    const sut = createApiClient(baseUrl, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    sut.use(contract);
    return sut;
  }

  let operator: ApiClient;
  let anonymous: ApiClient;
  let tenant: ApiClient;
  let appId: string;
  let subscriptionId: string;
  let call: { id: string };

  beforeAll(async () => {
    api = await startTestApi({
      WEBHOOK_RETRY_SCHEDULE: '0s,100ms',
      WEBHOOK_TIMEOUT_MS: '2000',
      AUTH_FAILURE_LIMIT: String(AUTH_FAILURE_LIMIT),
      AUTH_FAILURE_WINDOW: '2s',
    });
    baseUrl = await api.app.getUrl();
    const served = await fetch(`${baseUrl}/docs/openapi.json`);
    expect(served.status).toBe(200);
    validator = new OpenApiValidator((await served.json()) as Record<string, unknown>);
    worker = await startTestWorker(api);
    receiver = await new TestReceiver().start();
    operator = client(OPERATOR_TOKEN);
    anonymous = client();
  });
  afterAll(async () => {
    await worker?.close();
    await receiver?.stop();
    await api?.close();
  });

  it('serves OpenAPI 3.1 with a typed client that names every documented operation', () => {
    expect(validator.document.openapi).toBe('3.1.0');
    expect(validator.operations().length).toBeGreaterThan(20);
  });

  it('answers the health check and the metrics', async () => {
    const health = await anonymous.GET('/health');
    expect(health.data).toEqual({ status: 'ok', postgres: 'up', redis: 'up' });
    const metrics = await operator.GET('/metrics', { parseAs: 'text' });
    expect(metrics.data).toContain('webhook_deliveries');
  });

  it('creates, lists, reads and updates video apps', async () => {
    const created = await operator.POST('/v1/apps', { body: { name: 'Contract Video', no_show_grace_minutes: 5 } });
    expect(created.response.status).toBe(201);
    appId = created.data!.id;
    tenant = client(created.data!.api_key);
    const list = await operator.GET('/v1/apps', { params: { query: { limit: 1 } } });
    expect(list.data!.data).toHaveLength(1);
    const path = { appId };
    expect((await tenant.GET('/v1/apps/{appId}', { params: { path } })).data!.name).toBe('Contract Video');
    const updated = await tenant.PATCH('/v1/apps/{appId}', { params: { path }, body: { no_show_grace_minutes: 0 } });
    expect(updated.data!.no_show_grace_minutes).toBe(0);
  });

  it("issues, lists and revokes an app's API keys", async () => {
    const path = { appId };
    // `as never`: CreateApiKeyDto.name is documented as object|null (its decorator lacks `type: String`), so the generated type refuses a string.
    const created = await tenant.POST('/v1/apps/{appId}/api-keys', { params: { path }, body: { name: 'contract' } as never });
    expect(created.response.status).toBe(201);
    const list = await tenant.GET('/v1/apps/{appId}/api-keys', { params: { path } });
    expect(list.data!.data.map((k) => k.id)).toContain(created.data!.id);
    const revoked = await tenant.DELETE('/v1/apps/{appId}/api-keys/{keyId}', { params: { path: { appId, keyId: created.data!.id } } });
    expect(revoked.response.status).toBe(204);
  });

  it('manages a webhook subscription', async () => {
    const path = { appId };
    const created = await tenant.POST('/v1/apps/{appId}/webhook-subscriptions', {
      params: { path },
      body: { url: `${receiver.url}/hooks`, events: ['*'], description: 'contract', rate_limit_per_second: null },
    });
    expect(created.data!.secret).toMatch(/^whsec_/);
    subscriptionId = created.data!.id;
    const sub = { appId, subId: subscriptionId };
    expect((await tenant.GET('/v1/apps/{appId}/webhook-subscriptions', { params: { path } })).data!.data).toHaveLength(1);
    expect((await tenant.GET('/v1/apps/{appId}/webhook-subscriptions/{subId}', { params: { path: sub } })).data!.status).toBe('active');
    const patched = await tenant.PATCH('/v1/apps/{appId}/webhook-subscriptions/{subId}', {
      params: { path: sub },
      body: { description: null, rate_limit_per_second: 1000 },
    });
    expect(patched.data!.rate_limit_per_second).toBe(1000);
    expect((await tenant.POST('/v1/apps/{appId}/webhook-subscriptions/{subId}/pause', { params: { path: sub } })).data!.status).toBe('paused');
    expect(
      (await tenant.POST('/v1/apps/{appId}/webhook-subscriptions/{subId}/resume', { params: { path: sub }, body: { replay_held: true } })).data!.status,
    ).toBe('active');
    const rotated = await tenant.POST('/v1/apps/{appId}/webhook-subscriptions/{subId}/rotate-secret', {
      params: { path: sub },
      body: { grace_period_seconds: 60 },
    });
    expect(rotated.data!.secret).not.toBe(created.data!.secret);
  });

  it('creates scheduled calls (idempotently) and takes them through every transition', async () => {
    const path = { appId };
    const body = bookingBody(api, { requires_confirmation: true }) as never;
    const created = await tenant.POST('/v1/apps/{appId}/scheduled-calls', { params: { path, header: { 'Idempotency-Key': 'contract-1' } }, body });
    expect(created.response.status).toBe(201);
    const replayed = await tenant.POST('/v1/apps/{appId}/scheduled-calls', { params: { path, header: { 'Idempotency-Key': 'contract-1' } }, body });
    expect(replayed.response.headers.get('idempotent-replayed')).toBe('true');
    call = created.data!;
    const id = { appId, id: call.id };
    expect(
      (await tenant.GET('/v1/apps/{appId}/scheduled-calls', { params: { path, query: { status: 'pending_confirmation', limit: 10 } } })).data!.data,
    ).toHaveLength(1);
    expect((await tenant.GET('/v1/apps/{appId}/scheduled-calls/{id}', { params: { path: id } })).data!.status).toBe('pending_confirmation');
    expect((await tenant.POST('/v1/apps/{appId}/scheduled-calls/{id}/confirm', { params: { path: id } })).data!.status).toBe('confirmed');
    const later = new Date(api.clock.now().getTime() + 7_200_000).toISOString();
    const moved = await tenant.POST('/v1/apps/{appId}/scheduled-calls/{id}/reschedule', {
      params: { path: id },
      body: { scheduled_at: later, reason: 'contract' },
    });
    expect(moved.data!.reschedule_reason).toBe('contract');
    expect(
      (await tenant.POST('/v1/apps/{appId}/scheduled-calls/{id}/join', { params: { path: id }, body: { participant: 'agent' } })).data!.agent_joined_at,
    ).not.toBeNull();
    expect((await tenant.POST('/v1/apps/{appId}/scheduled-calls/{id}/cancel', { params: { path: id }, body: { reason: 'contract' } })).data!.status).toBe(
      'cancelled',
    );
  });

  it('delivers webhooks that match the webhooks of the document', async () => {
    const events = ['scheduled.created', 'scheduled.confirmed', 'scheduled.rescheduled', 'scheduled.cancelled'];
    await waitFor('the four deliveries', () => events.every((e) => receiver.requests.some((r) => r.json?.event === e)));
    for (const request of receiver.requests) {
      expect({ event: request.json?.event, errors: validator.webhookErrors(request.headers, request.rawBody.toString('utf8')) }).toEqual({
        event: request.json?.event,
        errors: [],
      });
    }
  });

  it('shows the delivery log, retries a delivery and recovers failed ones', async () => {
    const sub = { appId, subId: subscriptionId };
    const list = await tenant.GET('/v1/apps/{appId}/webhook-subscriptions/{subId}/deliveries', {
      params: { path: sub, query: { status: 'succeeded', limit: 10 } },
    });
    const delivery = list.data!.data[0];
    const detail = await tenant.GET('/v1/apps/{appId}/webhook-deliveries/{deliveryId}', { params: { path: { appId, deliveryId: delivery.id } } });
    expect(detail.data!.attempts.length).toBeGreaterThan(0);
    const retried = await tenant.POST('/v1/apps/{appId}/webhook-deliveries/{deliveryId}/retry', { params: { path: { appId, deliveryId: delivery.id } } });
    expect(retried.response.status).toBe(202);
    const since = new Date(api.clock.now().getTime() - 3_600_000).toISOString();
    const recovered = await tenant.POST('/v1/apps/{appId}/webhook-subscriptions/{subId}/recover', { params: { path: sub }, body: { since } });
    expect(recovered.data!.recovered).toBe(0);
    await waitFor('the manual attempt', () => receiver.requests.some((r) => r.json?.id === delivery.event_id && r.json?.attempt === 2));
  });

  it("sends a test event, shows the subscription's stats and a booking's deliveries", async () => {
    const sub = { appId, subId: subscriptionId };
    const test = await tenant.POST('/v1/apps/{appId}/webhook-subscriptions/{subId}/test', { params: { path: sub }, body: { event: 'scheduled.no_show' } });
    expect(test.response.status).toBe(202);
    expect(test.data).toMatchObject({ test: true, scheduled_call_id: null, event: 'scheduled.no_show' });
    const request = await waitFor('the test send', () => receiver.requests.find((r) => r.json?.id === test.data!.event_id));
    expect(validator.webhookErrors(request.headers, request.rawBody.toString('utf8'))).toEqual([]);
    const detail = await waitFor('the test attempt logged', async () => {
      const d = await tenant.GET('/v1/apps/{appId}/webhook-deliveries/{deliveryId}', { params: { path: { appId, deliveryId: test.data!.id } } });
      return d.data!.attempts.length === 1 && d.data!;
    });
    expect(detail.attempts[0].request_body).toBe(request.rawBody.toString('utf8'));
    const stats = await tenant.GET('/v1/apps/{appId}/webhook-subscriptions/{subId}/stats', { params: { path: sub, query: { window: '1h' } } });
    expect(stats.data!.buckets).toHaveLength(12);
    const booking = await tenant.GET('/v1/apps/{appId}/scheduled-calls/{id}/deliveries', { params: { path: { appId, id: call.id }, query: { limit: 10 } } });
    expect(booking.data!.data.length).toBeGreaterThan(0);
    expect(booking.data!.data.every((d) => d.scheduled_call_id === call.id)).toBe(true);
  });

  it('answers each documented problem with a documented problem body', async () => {
    const path = { appId };
    const id = { appId, id: call.id };
    const statusOf = (answer: { response: Response }) => answer.response.status;
    // 400: a cursor that no page handed out
    expect(statusOf(await tenant.GET('/v1/apps/{appId}/scheduled-calls', { params: { path, query: { cursor: 'not-a-cursor' } } }))).toBe(400);
    // 403: an app key on an operator route
    expect(statusOf(await tenant.GET('/v1/apps'))).toBe(403);
    // 404: no such call
    expect(statusOf(await tenant.GET('/v1/apps/{appId}/scheduled-calls/{id}', { params: { path: { appId, id: randomUUID() } } }))).toBe(404);
    // 409: confirming a cancelled call
    expect(statusOf(await tenant.POST('/v1/apps/{appId}/scheduled-calls/{id}/confirm', { params: { path: id } }))).toBe(409);
    // 413: a body over the limit
    const huge = bookingBody(api, { metadata: { blob: 'x'.repeat(70_000) } }) as never;
    expect(statusOf(await tenant.POST('/v1/apps/{appId}/scheduled-calls', { params: { path }, body: huge }))).toBe(413);
    // 415: not JSON
    const text = await tenant.POST('/v1/apps/{appId}/scheduled-calls', {
      params: { path },
      body: 'scheduled_at=tomorrow' as never,
      bodySerializer: (b: unknown) => String(b),
      headers: { 'content-type': 'text/plain' },
    });
    expect(statusOf(text)).toBe(415);
    // 422: a body that fails validation, with the field named
    const invalid = await tenant.POST('/v1/apps/{appId}/scheduled-calls', { params: { path }, body: { duration_minutes: 0 } as never });
    expect(statusOf(invalid)).toBe(422);
    expect(invalid.error).toMatchObject({
      code: 'validation_failed',
      errors: expect.arrayContaining([expect.objectContaining({ field: 'duration_minutes' })]),
    });
    // 204 after the problems that needed the subscription
    const deleted = await tenant.DELETE('/v1/apps/{appId}/webhook-subscriptions/{subId}', { params: { path: { appId, subId: subscriptionId } } });
    expect(deleted.response.status).toBe(204);
  });

  // Last: once over the limit, this client's address is refused for the window.
  it('answers 401 to a wrong key and 429 once a client fails too often', async () => {
    const intruder = client('scw_ak_not-a-key-of-anyone');
    const first = await intruder.GET('/v1/apps/{appId}', { params: { path: { appId } } });
    expect(first.response.status).toBe(401);
    expect(first.response.headers.get('www-authenticate')).toBe('Bearer');
    let status = 401;
    for (let i = 0; i < AUTH_FAILURE_LIMIT + 2 && status === 401; i++) {
      status = (await intruder.GET('/v1/apps/{appId}', { params: { path: { appId } } })).response.status;
    }
    expect(status).toBe(429);
  });

  it('called every documented operation with a documented success, and saw every problem status', () => {
    const missing = validator
      .operations()
      .map(({ method, path }) => `${method.toUpperCase()} ${path}`)
      .filter((key) => ![...(seen.get(key) ?? [])].some((status) => status < 300));
    expect(missing).toEqual([]);
    const problems = new Set([...seen.values()].flatMap((statuses) => [...statuses]));
    expect(PROBLEM_STATUSES.filter((status) => !problems.has(status))).toEqual([]);
  });
});
