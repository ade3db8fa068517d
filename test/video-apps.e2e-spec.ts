import { bearer, createBooking, createVideoApp, operator, startTestApi, TestApi, TestVideoApp } from './support/test-api';

describe('Video apps and authentication', () => {
  let api: TestApi;
  let alpha: TestVideoApp;
  let beta: TestVideoApp;

  beforeAll(async () => {
    api = await startTestApi();
    alpha = await createVideoApp(api, { name: 'Alpha', no_show_grace_minutes: 5 });
    beta = await createVideoApp(api, { name: 'Beta' });
  });
  afterAll(() => api.close());

  it('creates an app with a default grace of 15 minutes and returns its API key once', async () => {
    const response = await api.http.post('/v1/apps').set(operator).send({ name: 'Gamma' }).expect(201);
    expect(response.body).toMatchObject({ name: 'Gamma', no_show_grace_minutes: 15 });
    expect(response.body.api_key).toMatch(/^scw_ak_[A-Za-z0-9_-]{43}$/);
    const fetched = await api.http.get(`/v1/apps/${response.body.id}`).set(operator).expect(200);
    expect(fetched.body).not.toHaveProperty('api_key');
    expect(JSON.stringify(fetched.body)).not.toContain(response.body.api_key);
  });

  it('stores only a digest of the API key', async () => {
    const rows = await api.db.query('SELECT key_hash, key_prefix FROM app_api_keys WHERE app_id = $1', [alpha.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].key_hash).toHaveLength(32);
    expect(alpha.apiKey.startsWith(rows[0].key_prefix)).toBe(true);
    expect(rows[0].key_prefix.length).toBeLessThan(20);
  });

  it('lets an app read and update itself with its own key', async () => {
    await api.http.get(`/v1/apps/${alpha.id}`).set(alpha.auth).expect(200);
    const updated = await api.http.patch(`/v1/apps/${alpha.id}`).set(alpha.auth).send({ name: 'Alpha Renamed', no_show_grace_minutes: 0 }).expect(200);
    expect(updated.body).toMatchObject({ id: alpha.id, name: 'Alpha Renamed', no_show_grace_minutes: 0 });
  });

  it('lists apps for the operator only, with pagination', async () => {
    const first = await api.http.get('/v1/apps').query({ limit: 2 }).set(operator).expect(200);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const rest = await api.http.get('/v1/apps').query({ limit: 2, cursor: first.body.next_cursor }).set(operator).expect(200);
    expect(rest.body.data.length).toBeGreaterThan(0);
    expect(rest.body.data.map((a: { id: string }) => a.id)).not.toContain(first.body.data[0].id);
    await api.http.get('/v1/apps').set(alpha.auth).expect(403);
  });

  it('answers 401 without credentials, with a wrong key and with a malformed header', async () => {
    for (const headers of [{}, bearer('scw_ak_not-a-real-key'), bearer('wrong-operator-token'), { authorization: 'Basic abc' }]) {
      const response = await api.http.get(`/v1/apps/${alpha.id}`).set(headers).expect(401);
      expect(response.body).toMatchObject({ status: 401, code: 'unauthorized' });
      expect(response.headers['www-authenticate']).toBe('Bearer');
    }
  });

  it('answers 403 when an app key calls an operator route, creating nothing', async () => {
    const before = (await api.db.query('SELECT count(*)::int AS n FROM video_apps'))[0].n;
    const response = await api.http.post('/v1/apps').set(alpha.auth).send({ name: 'Sneaky' }).expect(403);
    expect(response.body.code).toBe('forbidden');
    expect((await api.db.query('SELECT count(*)::int AS n FROM video_apps'))[0].n).toBe(before);
  });

  it('answers 404 for an unknown app, even to the operator', async () => {
    await api.http.get('/v1/apps/00000000-0000-4000-8000-000000000000').set(operator).expect(404);
    await api.http.get('/v1/apps/not-a-uuid').set(operator).expect(404);
  });

  describe('tenant isolation', () => {
    let call: Record<string, any>;
    beforeAll(async () => {
      call = await createBooking(api, alpha);
    });

    const routes: Array<[string, string, Record<string, unknown> | undefined]> = [
      ['GET', '/v1/apps/:appId', undefined],
      ['PATCH', '/v1/apps/:appId', { name: 'Hijacked' }],
      [
        'POST',
        '/v1/apps/:appId/scheduled-calls',
        { scheduled_at: new Date(Date.now() + 3_600_000).toISOString(), duration_minutes: 10, guest: { name: 'X', email: 'x@example.com' } },
      ],
      ['GET', '/v1/apps/:appId/scheduled-calls', undefined],
      ['GET', '/v1/apps/:appId/scheduled-calls/:callId', undefined],
      ['POST', '/v1/apps/:appId/scheduled-calls/:callId/reschedule', { scheduled_at: new Date(Date.now() + 7_200_000).toISOString() }],
      ['POST', '/v1/apps/:appId/scheduled-calls/:callId/cancel', {}],
      ['POST', '/v1/apps/:appId/scheduled-calls/:callId/confirm', undefined],
      ['POST', '/v1/apps/:appId/scheduled-calls/:callId/join', { participant: 'guest' }],
    ];

    it.each(routes)("answers 404 to %s %s with another app's key and changes nothing", async (method, url, body) => {
      const before = await api.db.query(
        'SELECT (SELECT count(*) FROM scheduled_calls) AS calls, (SELECT count(*) FROM outbox_events) AS events, (SELECT name FROM video_apps WHERE id = $1) AS name',
        [alpha.id],
      );
      const req = api.http[method.toLowerCase() as 'get' | 'post' | 'patch'](url.replace(':appId', alpha.id).replace(':callId', call.id)).set(beta.auth);
      const response = await (body ? req.send(body) : req);
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('not_found');
      const after = await api.db.query(
        'SELECT (SELECT count(*) FROM scheduled_calls) AS calls, (SELECT count(*) FROM outbox_events) AS events, (SELECT name FROM video_apps WHERE id = $1) AS name',
        [alpha.id],
      );
      expect(after).toEqual(before);
    });

    it("answers 404 when an app addresses another app's call under its own path", async () => {
      await api.http.get(`/v1/apps/${beta.id}/scheduled-calls/${call.id}`).set(beta.auth).expect(404);
      await api.http.post(`/v1/apps/${beta.id}/scheduled-calls/${call.id}/cancel`).set(beta.auth).send({}).expect(404);
      const list = await api.http.get(`/v1/apps/${beta.id}/scheduled-calls`).set(beta.auth).expect(200);
      expect(list.body.data.map((c: { id: string }) => c.id)).not.toContain(call.id);
    });

    it('lets the operator reach any app', async () => {
      await api.http.get(`/v1/apps/${alpha.id}/scheduled-calls/${call.id}`).set(operator).expect(200);
    });
  });

  it('serves the OpenAPI document and a health check without credentials', async () => {
    const doc = await api.http.get('/docs/openapi.json').expect(200);
    expect(doc.body.paths).toHaveProperty(['/v1/apps/{appId}/scheduled-calls']);
    const health = await api.http.get('/health').expect(200);
    expect(health.body).toEqual({ status: 'ok', postgres: 'up', redis: 'up' });
  });
});
