import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { bookingBody, createBooking, createVideoApp, operator, startTestApi, TestApi, TestVideoApp } from './support/test-api';

interface BadInput {
  name: string;
  method: 'get' | 'post' | 'patch';
  path: string;
  body?: unknown;
  raw?: { contentType: string; payload: string };
  headers?: Record<string, string>;
  status: number;
  code: string;
}

describe('Bad inputs', () => {
  let api: TestApi;
  let app: TestVideoApp;
  let call: Record<string, any>;
  let subId: string;

  beforeAll(async () => {
    api = await startTestApi();
    app = await createVideoApp(api);
    call = await createBooking(api, app);
    subId = (
      await api.http
        .post(`/v1/apps/${app.id}/webhook-subscriptions`)
        .set(app.auth)
        .send({ url: 'http://127.0.0.1:9/x', events: ['*'] })
        .expect(201)
    ).body.id;
  });
  afterAll(() => api.close());

  const hour = 3_600_000;
  const at = (ms: number) => new Date(Date.now() + ms).toISOString();
  const create = (overrides: Record<string, unknown>, extra: Pick<BadInput, 'name' | 'status' | 'code'> & Partial<BadInput>): BadInput => ({
    method: 'post' as const,
    path: '/v1/apps/:app/scheduled-calls',
    body: { ...validBody(), ...overrides },
    ...extra,
  });
  const validBody = () => ({ scheduled_at: at(hour), duration_minutes: 30, timezone: 'UTC', guest: { name: 'G', email: 'g@example.com' }, metadata: { a: 1 } });
  const deep = (levels: number): Record<string, unknown> => (levels === 0 ? { leaf: true } : { child: deep(levels - 1) });

  const cases = (): BadInput[] => [
    {
      name: 'malformed JSON',
      method: 'post',
      path: '/v1/apps/:app/scheduled-calls',
      raw: { contentType: 'application/json', payload: '{"scheduled_at": ' },
      status: 400,
      code: 'invalid_json',
    },
    {
      name: 'a JSON array as body',
      method: 'post',
      path: '/v1/apps/:app/scheduled-calls',
      raw: { contentType: 'application/json', payload: '[1,2]' },
      status: 422,
      code: 'validation_failed',
    },
    {
      name: 'a JSON string as body',
      method: 'post',
      path: '/v1/apps/:app/scheduled-calls',
      raw: { contentType: 'application/json', payload: '"hello"' },
      status: 422,
      code: 'validation_failed',
    },
    {
      name: 'a text/plain body',
      method: 'post',
      path: '/v1/apps/:app/scheduled-calls',
      raw: { contentType: 'text/plain', payload: 'hello' },
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      name: 'a form-encoded body',
      method: 'post',
      path: '/v1/apps/:app/scheduled-calls',
      raw: { contentType: 'application/x-www-form-urlencoded', payload: 'a=b' },
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      name: 'a body over the size limit',
      method: 'post',
      path: '/v1/apps/:app/scheduled-calls',
      raw: { contentType: 'application/json', payload: JSON.stringify({ metadata: { blob: 'x'.repeat(70_000) } }) },
      status: 413,
      code: 'payload_too_large',
    },
    {
      name: 'a __proto__ key',
      method: 'post',
      path: '/v1/apps/:app/scheduled-calls',
      raw: { contentType: 'application/json', payload: '{"__proto__": {"admin": true}}' },
      status: 400,
      code: 'invalid_json',
    },
    create({ scheduled_at: undefined }, { name: 'missing scheduled_at', status: 422, code: 'validation_failed' }),
    create({ scheduled_at: 'tomorrow' }, { name: 'scheduled_at that is not a date', status: 422, code: 'validation_failed' }),
    create({ scheduled_at: '2030-01-01T10:00:00' }, { name: 'scheduled_at without an offset', status: 422, code: 'validation_failed' }),
    create(
      { scheduled_at: `${new Date().getUTCFullYear() + 1}-02-30T10:00:00Z` },
      { name: 'scheduled_at on a day that does not exist', status: 422, code: 'validation_failed' },
    ),
    create({ scheduled_at: at(-hour) }, { name: 'scheduled_at in the past', status: 422, code: 'scheduled_at_in_past' }),
    create({ scheduled_at: at(3 * 365 * 24 * hour) }, { name: 'scheduled_at three years ahead', status: 422, code: 'scheduled_at_too_far' }),
    create({ duration_minutes: 0 }, { name: 'duration of 0 minutes', status: 422, code: 'validation_failed' }),
    create({ duration_minutes: 1441 }, { name: 'duration over a day', status: 422, code: 'validation_failed' }),
    create({ duration_minutes: 1.5 }, { name: 'fractional duration', status: 422, code: 'validation_failed' }),
    create({ duration_minutes: '30' }, { name: 'duration as a string', status: 422, code: 'validation_failed' }),
    create({ timezone: 'Mars/Olympus_Mons' }, { name: 'unknown time zone', status: 422, code: 'validation_failed' }),
    create({ guest: undefined }, { name: 'missing guest', status: 422, code: 'validation_failed' }),
    create({ guest: [] }, { name: 'guest as an array', status: 422, code: 'validation_failed' }),
    create({ guest: { name: 'G', email: 'not-an-email' } }, { name: 'invalid guest email', status: 422, code: 'validation_failed' }),
    create(
      { guest: { name: 'G', email: `${'a'.repeat(250)}@example.com` } },
      { name: 'guest email over 254 characters', status: 422, code: 'validation_failed' },
    ),
    create({ guest: { name: '', email: 'g@example.com' } }, { name: 'empty guest name', status: 422, code: 'validation_failed' }),
    create({ guest: { name: 'x'.repeat(201), email: 'g@example.com' } }, { name: 'guest name over 200 characters', status: 422, code: 'validation_failed' }),
    create(
      { guest: { name: 'G', email: 'g@example.com', phone: 'call me maybe' } },
      { name: 'guest phone that is not a number', status: 422, code: 'validation_failed' },
    ),
    create({ guest: { name: 'G', email: 'g@example.com', role: 'admin' } }, { name: 'unknown field inside guest', status: 422, code: 'validation_failed' }),
    create({ agent: { name: 'No Id' } }, { name: 'agent without an id', status: 422, code: 'validation_failed' }),
    create({ status: 'confirmed' }, { name: 'unknown top-level field (status)', status: 422, code: 'validation_failed' }),
    create({ metadata: ['a'] }, { name: 'metadata as an array', status: 422, code: 'validation_failed' }),
    create({ metadata: { blob: 'x'.repeat(17_000) } }, { name: 'metadata over 16 KiB', status: 422, code: 'validation_failed' }),
    create({ metadata: deep(12) }, { name: 'metadata nested too deep', status: 422, code: 'validation_failed' }),
    create({ requires_confirmation: 'yes' }, { name: 'requires_confirmation as a string', status: 422, code: 'validation_failed' }),
    create({}, { name: 'Idempotency-Key over 255 characters', headers: { 'idempotency-key': 'k'.repeat(256) }, status: 400, code: 'invalid_idempotency_key' }),
    create({}, { name: 'Idempotency-Key with a space', headers: { 'idempotency-key': 'two words' }, status: 400, code: 'invalid_idempotency_key' }),
    { name: 'a call id that is not a UUID', method: 'get', path: '/v1/apps/:app/scheduled-calls/123', status: 404, code: 'not_found' },
    {
      name: 'an unknown call id',
      method: 'post',
      path: '/v1/apps/:app/scheduled-calls/00000000-0000-4000-8000-000000000000/cancel',
      body: {},
      status: 404,
      code: 'not_found',
    },
    {
      name: 'reschedule without scheduled_at',
      method: 'post',
      path: '/v1/apps/:app/scheduled-calls/:call/reschedule',
      body: { reason: 'x' },
      status: 422,
      code: 'validation_failed',
    },
    {
      name: 'reschedule into the past',
      method: 'post',
      path: '/v1/apps/:app/scheduled-calls/:call/reschedule',
      body: { scheduled_at: at(-hour) },
      status: 422,
      code: 'scheduled_at_in_past',
    },
    {
      name: 'join as an unknown participant',
      method: 'post',
      path: '/v1/apps/:app/scheduled-calls/:call/join',
      body: { participant: 'host' },
      status: 422,
      code: 'validation_failed',
    },
    { name: 'join without a participant', method: 'post', path: '/v1/apps/:app/scheduled-calls/:call/join', status: 422, code: 'validation_failed' },
    {
      name: 'cancel reason over 500 characters',
      method: 'post',
      path: '/v1/apps/:app/scheduled-calls/:call/cancel',
      body: { reason: 'r'.repeat(501) },
      status: 422,
      code: 'validation_failed',
    },
    {
      name: 'cancel reason as a number',
      method: 'post',
      path: '/v1/apps/:app/scheduled-calls/:call/cancel',
      body: { reason: 42 },
      status: 422,
      code: 'validation_failed',
    },
    { name: 'list limit 0', method: 'get', path: '/v1/apps/:app/scheduled-calls?limit=0', status: 400, code: 'invalid_query' },
    { name: 'list limit 101', method: 'get', path: '/v1/apps/:app/scheduled-calls?limit=101', status: 400, code: 'invalid_query' },
    { name: 'list limit not a number', method: 'get', path: '/v1/apps/:app/scheduled-calls?limit=abc', status: 400, code: 'invalid_query' },
    { name: 'list by an unknown status', method: 'get', path: '/v1/apps/:app/scheduled-calls?status=done', status: 400, code: 'invalid_query' },
    { name: 'list from that is not a date', method: 'get', path: '/v1/apps/:app/scheduled-calls?from=yesterday', status: 400, code: 'invalid_query' },
    {
      name: 'list from after to',
      method: 'get',
      path: `/v1/apps/:app/scheduled-calls?from=${encodeURIComponent(at(2 * hour))}&to=${encodeURIComponent(at(hour))}`,
      status: 400,
      code: 'invalid_query',
    },
    { name: 'a forged cursor', method: 'get', path: '/v1/apps/:app/scheduled-calls?cursor=bm90LWEtY3Vyc29y', status: 400, code: 'invalid_cursor' },
    { name: 'an unknown query parameter', method: 'get', path: '/v1/apps/:app/scheduled-calls?sort=asc', status: 400, code: 'invalid_query' },
    { name: 'an app with an empty name', method: 'post', path: '/v1/apps', body: { name: '' }, headers: operator, status: 422, code: 'validation_failed' },
    {
      name: 'an app with a negative grace',
      method: 'post',
      path: '/v1/apps',
      body: { name: 'A', no_show_grace_minutes: -1 },
      headers: operator,
      status: 422,
      code: 'validation_failed',
    },
    {
      name: 'an app with a grace over a week',
      method: 'post',
      path: '/v1/apps',
      body: { name: 'A', no_show_grace_minutes: 10_081 },
      headers: operator,
      status: 422,
      code: 'validation_failed',
    },
    { name: 'an app renamed to a number', method: 'patch', path: '/v1/apps/:app', body: { name: 7 }, status: 422, code: 'validation_failed' },
    { name: 'an unknown route', method: 'get', path: '/v1/nothing-here', status: 404, code: 'not_found' },
    // PostgreSQL stores neither NUL nor lone surrogates; every string and key is checked, whatever the route.
    create({ guest: { name: 'G\u0000', email: 'g@example.com' } }, { name: 'NUL in guest.name', status: 422, code: 'validation_failed' }),
    create({ metadata: { note: 'a\u0000b' } }, { name: 'NUL in a metadata value', status: 422, code: 'validation_failed' }),
    create({ metadata: { ['a\u0000b']: 1 } }, { name: 'NUL in a metadata key', status: 422, code: 'validation_failed' }),
    {
      name: 'a lone surrogate in metadata',
      method: 'post',
      path: '/v1/apps/:app/scheduled-calls',
      raw: { contentType: 'application/json', payload: JSON.stringify(validBody()).replace('"a":1', '"a":"\\ud800"') },
      status: 422,
      code: 'validation_failed',
    },
    {
      name: 'metadata nested 5,000 levels',
      method: 'post',
      path: '/v1/apps/:app/scheduled-calls',
      raw: { contentType: 'application/json', payload: JSON.stringify(validBody()).replace('"a":1', `"a":${'['.repeat(5_000)}${']'.repeat(5_000)}`) },
      status: 422,
      code: 'validation_failed',
    },
    {
      name: '1e400 in metadata',
      method: 'post',
      path: '/v1/apps/:app/scheduled-calls',
      raw: { contentType: 'application/json', payload: JSON.stringify(validBody()).replace('"a":1', '"a":1e400') },
      status: 422,
      code: 'validation_failed',
    },
    { name: 'NUL in an app name', method: 'post', path: '/v1/apps', body: { name: 'A\u0000' }, headers: operator, status: 422, code: 'validation_failed' },
    {
      name: 'NUL in a cancel reason',
      method: 'post',
      path: '/v1/apps/:app/scheduled-calls/:call/cancel',
      body: { reason: '\u0000' },
      status: 422,
      code: 'validation_failed',
    },
    { name: 'an app renamed to null', method: 'patch', path: '/v1/apps/:app', body: { name: null }, status: 422, code: 'validation_failed' },
    { name: 'a grace set to null', method: 'patch', path: '/v1/apps/:app', body: { no_show_grace_minutes: null }, status: 422, code: 'validation_failed' },
    {
      name: 'a subscription whose events are set to null',
      method: 'patch',
      path: '/v1/apps/:app/webhook-subscriptions/:sub',
      body: { events: null },
      status: 422,
      code: 'validation_failed',
    },
    {
      name: 'a body on a route that takes none (confirm)',
      method: 'post',
      path: '/v1/apps/:app/scheduled-calls/:call/confirm',
      body: { status: 'cancelled' },
      status: 400,
      code: 'unexpected_body',
    },
    {
      name: 'a body on pause',
      method: 'post',
      path: '/v1/apps/:app/webhook-subscriptions/:sub/pause',
      body: { replay_held: true },
      status: 400,
      code: 'unexpected_body',
    },
    {
      name: 'a test send of an unknown event type',
      method: 'post',
      path: '/v1/apps/:app/webhook-subscriptions/:sub/test',
      body: { event: 'scheduled.started' },
      status: 422,
      code: 'validation_failed',
    },
    {
      name: 'a test send with the event set to null',
      method: 'post',
      path: '/v1/apps/:app/webhook-subscriptions/:sub/test',
      body: { event: null },
      status: 422,
      code: 'validation_failed',
    },
    {
      name: 'stats over an unknown window',
      method: 'get',
      path: '/v1/apps/:app/webhook-subscriptions/:sub/stats?window=30d',
      status: 400,
      code: 'invalid_query',
    },
    {
      name: "a booking's deliveries with a forged cursor",
      method: 'get',
      path: '/v1/apps/:app/scheduled-calls/:call/deliveries?cursor=bm9wZQ',
      status: 400,
      code: 'invalid_cursor',
    },
    { name: 'a constructor query parameter', method: 'get', path: '/v1/apps/:app/scheduled-calls?constructor=x', status: 400, code: 'invalid_query' },
    { name: 'a __proto__ query parameter', method: 'get', path: '/v1/apps/:app/scheduled-calls?__proto__=x', status: 400, code: 'invalid_query' },
    { name: 'a query parameter on a route that takes none', method: 'get', path: '/v1/apps/:app?expand=all', status: 400, code: 'invalid_query' },
    { name: 'NUL in a query value', method: 'get', path: '/v1/apps/:app/scheduled-calls?cursor=%00', status: 400, code: 'invalid_query' },
    {
      name: 'a cursor dated -271821',
      method: 'get',
      path: `/v1/apps/:app/scheduled-calls?cursor=${Buffer.from(JSON.stringify(['-271821-04-20T00:00:00.000Z', '00000000-0000-4000-8000-000000000000'])).toString('base64url')}`,
      status: 400,
      code: 'invalid_cursor',
    },
    {
      name: 'from dated -271821',
      method: 'get',
      path: `/v1/apps/:app/scheduled-calls?from=${encodeURIComponent('-271821-04-20T00:00:00Z')}`,
      status: 400,
      code: 'invalid_query',
    },
    {
      name: 'from in year 0',
      method: 'get',
      path: `/v1/apps/:app/scheduled-calls?from=${encodeURIComponent('0000-01-01T00:00:00Z')}`,
      status: 400,
      code: 'invalid_query',
    },
    { name: 'a 9,000-character path segment', method: 'get', path: `/v1/apps/${'a'.repeat(9_000)}`, status: 414, code: 'uri_too_long' },
  ];

  async function snapshot(): Promise<unknown> {
    return api.db.query(
      `SELECT (SELECT count(*) FROM video_apps) AS apps, (SELECT count(*) FROM scheduled_calls) AS calls,
      (SELECT count(*) FROM outbox_events) AS events, (SELECT row_to_json(c) FROM scheduled_calls c WHERE id = $1) AS call,
      (SELECT row_to_json(a) FROM video_apps a WHERE id = $2) AS app, (SELECT row_to_json(s) FROM webhook_subscriptions s WHERE id = $3) AS sub`,
      [call.id, app.id, subId],
    );
  }

  it('covers at least 30 kinds of bad input', () => {
    expect(cases().length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases().map((c) => [c.name, c] as const))('answers %s with a 4xx problem and changes nothing', async (_, bad) => {
    const before = await snapshot();
    const path = bad.path.replace(':app', app.id).replace(':call', call.id).replace(':sub', subId);
    let req = api.http[bad.method](path).set({ ...app.auth, ...bad.headers });
    if (bad.raw) req = req.set('content-type', bad.raw.contentType).send(bad.raw.payload);
    else if (bad.body !== undefined) req = req.send(bad.body as object);
    const response = await req;
    expect({ status: response.status, code: response.body.code }).toEqual({ status: bad.status, code: bad.code });
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.body.message).toEqual(expect.any(String));
    expect(await snapshot()).toEqual(before);
  });

  it('names every faulty field in a validation error', async () => {
    const response = await api.http
      .post(`/v1/apps/${app.id}/scheduled-calls`)
      .set(app.auth)
      .send({ duration_minutes: 0, guest: { name: 'G', email: 'nope' } })
      .expect(422);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['scheduled_at', 'duration_minutes', 'guest.email']));
  });

  /** Sends raw bytes on a fresh connection and collects what comes back until the server closes it. */
  function rawExchange(port: number, chunks: string[], everyMs = 0): Promise<{ text: string; closedAfterMs: number }> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      let text = '';
      const trickle = async () => {
        for (const chunk of chunks) {
          if (socket.destroyed) break;
          socket.write(chunk);
          if (everyMs) await new Promise((r) => setTimeout(r, everyMs));
        }
      };
      const socket = connect(port, '127.0.0.1', () => void trickle().catch(reject));
      socket.on('data', (data) => (text += data.toString()));
      socket.on('error', () => undefined);
      const timer = setTimeout(() => reject(new Error(`no close after 20 s; got ${text.slice(0, 200)}`)), 20_000);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ text, closedAfterMs: Date.now() - started });
      });
    });
  }
  const port = (target: TestApi) => (target.app.getHttpServer().address() as AddressInfo).port;

  it('answers headers over the size limit with 431 problem+json', async () => {
    const { text } = await rawExchange(port(api), [`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]);
    expect(text).toMatch(/^HTTP\/1\.1 431 /);
    expect(text).toMatch(/content-type: application\/problem\+json/i);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 431, code: 'headers_too_large' });
  });

  it('answers malformed HTTP with 400 problem+json', async () => {
    const { text } = await rawExchange(port(api), ['GARBAGE\r\n\r\n']);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 400, code: 'malformed_request' });
  });

  it('cuts off a request body trickled slower than REQUEST_TIMEOUT, creating nothing', async () => {
    const slow = await startTestApi({ REQUEST_TIMEOUT: '2s' });
    try {
      const tenant = await createVideoApp(slow);
      const body = JSON.stringify(bookingBody(slow));
      const head = `POST /v1/apps/${tenant.id}/scheduled-calls HTTP/1.1\r\nHost: x\r\nAuthorization: ${tenant.auth.authorization}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
      // One byte every 200 ms: the whole body would take minutes.
      const { text, closedAfterMs } = await rawExchange(port(slow), [head, ...body.split('')], 200);
      expect(text).toMatch(/^HTTP\/1\.1 408 /);
      expect(closedAfterMs).toBeLessThan(4_500);
      expect((await slow.db.query('SELECT count(*)::int AS n FROM scheduled_calls'))[0].n).toBe(0);
    } finally {
      await slow.close();
    }
  });

  it('accepts an action with an empty JSON body', async () => {
    const pending = await createBooking(api, app, { requires_confirmation: true });
    await api.http.post(`/v1/apps/${app.id}/scheduled-calls/${pending.id}/confirm`).set(app.auth).set('content-type', 'application/json').send('').expect(200);
  });
});
