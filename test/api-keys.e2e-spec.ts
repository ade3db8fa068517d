import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiKeyUsageRecorder } from '../apps/api/src/video-apps/api-key-usage.recorder';
import { bearer, createVideoApp, operator, startSecondApi, startTestApi, TestApi, TestVideoApp } from './support/test-api';
import { waitFor } from './support/wait-for';

const KEY_FIELDS = ['created_at', 'id', 'last_used_at', 'name', 'prefix', 'revoked_at'];

const keysPath = (app: { id: string }) => `/v1/apps/${app.id}/api-keys`;

async function createKey(
  api: TestApi,
  app: TestVideoApp,
  auth: { authorization: string } = operator,
  body: Record<string, unknown> = { name: 'billing backend' },
): Promise<Record<string, any>> {
  return (await api.http.post(keysPath(app)).set(auth).send(body).expect(201)).body;
}

async function listKeys(api: TestApi, app: TestVideoApp): Promise<Array<Record<string, any>>> {
  return (await api.http.get(keysPath(app)).query({ limit: 100 }).set(operator).expect(200)).body.data;
}

/** The status GET /v1/apps/{appId} answers with this key on this API process. */
async function statusWith(api: TestApi, app: TestVideoApp, key: string): Promise<number> {
  return (await api.http.get(`/v1/apps/${app.id}`).set(bearer(key))).status;
}

describe('API keys', () => {
  let api: TestApi;
  let second: TestApi;
  let alpha: TestVideoApp;
  let beta: TestVideoApp;

  beforeAll(async () => {
    api = await startTestApi();
    second = await startSecondApi(api);
    alpha = await createVideoApp(api, { name: 'Alpha' });
    beta = await createVideoApp(api, { name: 'Beta' });
  });
  afterAll(async () => {
    await second.close();
    await api.close();
  });

  it('lists the key POST /v1/apps made, named "default", without the key or its digest', async () => {
    const response = await api.http.get(keysPath(alpha)).set(alpha.auth).expect(200);
    expect(response.body.next_cursor).toBeNull();
    expect(response.body.data).toHaveLength(1);
    const [key] = response.body.data;
    expect(Object.keys(key).sort()).toEqual(KEY_FIELDS);
    expect(key).toMatchObject({ name: 'default', revoked_at: null });
    expect(alpha.apiKey.startsWith(key.prefix)).toBe(true);
    const [row] = await api.db.query('SELECT key_hash FROM app_api_keys WHERE id = $1', [key.id]);
    const text = JSON.stringify(response.body);
    for (const secret of [alpha.apiKey, row.key_hash.toString('hex'), row.key_hash.toString('base64'), row.key_hash.toString('base64url')]) {
      expect(text).not.toContain(secret);
    }
  });

  it("creates a key with the app's own key, shows it once, and the new key works at once on every process", async () => {
    const created = await createKey(api, alpha, alpha.auth, { name: 'billing backend' });
    expect(Object.keys(created).sort()).toEqual([...KEY_FIELDS, 'api_key'].sort());
    expect(created).toMatchObject({ name: 'billing backend', last_used_at: null, revoked_at: null, created_at: api.clock.now().toISOString() });
    expect(created.api_key).toMatch(/^scw_ak_[A-Za-z0-9_-]{43}$/);
    expect(created.prefix).toBe(created.api_key.slice(0, 13));
    expect(await statusWith(api, alpha, created.api_key)).toBe(200);
    expect(await statusWith(second, alpha, created.api_key)).toBe(200);
    const listed = (await listKeys(api, alpha)).find((k) => k.id === created.id);
    expect(listed).toEqual({
      id: created.id,
      name: 'billing backend',
      prefix: created.prefix,
      created_at: created.created_at,
      last_used_at: null,
      revoked_at: null,
    });
  });

  it('creates a key without a name (no body, or name null)', async () => {
    expect((await api.http.post(keysPath(alpha)).set(operator).expect(201)).body.name).toBeNull();
    expect((await createKey(api, alpha, operator, { name: null })).name).toBeNull();
  });

  it('pages through the keys newest first', async () => {
    const gamma = await createVideoApp(api, { name: 'Gamma' });
    for (let i = 0; i < 3; i++) {
      api.clock.advance(1_000);
      await createKey(api, gamma, operator, { name: `key ${i}` });
    }
    const first = await api.http.get(keysPath(gamma)).query({ limit: 3 }).set(gamma.auth).expect(200);
    expect(first.body.data.map((k: { name: string }) => k.name)).toEqual(['key 2', 'key 1', 'key 0']);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const rest = await api.http.get(keysPath(gamma)).query({ limit: 3, cursor: first.body.next_cursor }).set(gamma.auth).expect(200);
    expect(rest.body).toEqual({ data: [expect.objectContaining({ name: 'default' })], next_cursor: null });
  });

  it('revokes a key: 204, the key answers 401, the list shows revoked_at, and revoking it again is still 204', async () => {
    const key = await createKey(api, alpha);
    expect(await statusWith(api, alpha, key.api_key)).toBe(200);
    api.clock.advance(5_000);
    await api.http
      .delete(`${keysPath(alpha)}/${key.id}`)
      .set(operator)
      .expect(204);
    const response = await api.http.get(`/v1/apps/${alpha.id}`).set(bearer(key.api_key)).expect(401);
    expect(response.body).toMatchObject({ status: 401, code: 'unauthorized' });
    expect((await listKeys(api, alpha)).find((k) => k.id === key.id)).toMatchObject({ revoked_at: api.clock.now().toISOString() });
    api.clock.advance(5_000);
    await api.http
      .delete(`${keysPath(alpha)}/${key.id.toUpperCase()}`)
      .set(alpha.auth)
      .expect(204);
    // The second DELETE kept the first revocation time.
    expect((await listKeys(api, alpha)).find((k) => k.id === key.id)?.revoked_at).toBe(new Date(api.clock.now().getTime() - 5_000).toISOString());
  });

  it("answers 404 to another app's key, to the operator and to the app alike, and revokes nothing", async () => {
    const betaKey = await createKey(api, beta);
    await api.http
      .delete(`${keysPath(alpha)}/${betaKey.id}`)
      .set(operator)
      .expect(404);
    const response = await api.http
      .delete(`${keysPath(alpha)}/${betaKey.id}`)
      .set(alpha.auth)
      .expect(404);
    expect(response.body.code).toBe('not_found');
    await api.http
      .delete(`${keysPath(beta)}/${betaKey.id}`)
      .set(alpha.auth)
      .expect(404);
    await api.http.get(keysPath(beta)).set(alpha.auth).expect(404);
    await api.http.post(keysPath(beta)).set(alpha.auth).send({ name: 'sneaky' }).expect(404);
    expect(await statusWith(api, beta, betaKey.api_key)).toBe(200);
    const [row] = await api.db.query('SELECT revoked_at FROM app_api_keys WHERE id = $1', [betaKey.id]);
    expect(row.revoked_at).toBeNull();
    expect((await listKeys(api, beta)).map((k) => k.name)).not.toContain('sneaky');
  });

  it("lets a key revoke itself, even its app's last active key; the operator can then create a new one", async () => {
    const delta = await createVideoApp(api, { name: 'Delta' });
    const [own] = await listKeys(api, delta);
    await api.http
      .delete(`${keysPath(delta)}/${own.id}`)
      .set(delta.auth)
      .expect(204);
    await api.http.get(keysPath(delta)).set(delta.auth).expect(401);
    const fresh = await createKey(api, delta, operator, { name: 'replacement' });
    expect(await statusWith(api, delta, fresh.api_key)).toBe(200);
  });

  describe('revocation on every API process', () => {
    it('refuses a revoked key on another API process within 1 s', async () => {
      const key = await createKey(api, alpha);
      // Both processes have verified (and cached) the key.
      expect(await statusWith(api, alpha, key.api_key)).toBe(200);
      expect(await statusWith(second, alpha, key.api_key)).toBe(200);
      expect(await statusWith(second, alpha, key.api_key)).toBe(200);
      const revokedAt = Date.now();
      await api.http
        .delete(`${keysPath(alpha)}/${key.id}`)
        .set(operator)
        .expect(204);
      await waitFor('the second process to refuse the revoked key', async () => (await statusWith(second, alpha, key.api_key)) === 401, 1_000, 10);
      expect(Date.now() - revokedAt).toBeLessThan(1_000);
    });

    it('refuses within 1 s a key revoked without an announcement, as when the pub/sub message is lost', async () => {
      const key = await createKey(api, alpha);
      expect(await statusWith(api, alpha, key.api_key)).toBe(200);
      expect(await statusWith(second, alpha, key.api_key)).toBe(200);
      // Straight in PostgreSQL: no API process announces it; each must notice it by itself.
      const revokedAt = Date.now();
      await api.db.query('UPDATE app_api_keys SET revoked_at = now() WHERE id = $1', [key.id]);
      await Promise.all(
        [api, second].map((process) =>
          waitFor('every process to refuse the key', async () => (await statusWith(process, alpha, key.api_key)) === 401, 1_000, 10),
        ),
      );
      expect(Date.now() - revokedAt).toBeLessThan(1_000);
    });

    it('keeps accepting the other keys of the app when one is revoked', async () => {
      const kept = await createKey(api, alpha);
      const revoked = await createKey(api, alpha);
      expect(await statusWith(second, alpha, kept.api_key)).toBe(200);
      await api.http
        .delete(`${keysPath(alpha)}/${revoked.id}`)
        .set(operator)
        .expect(204);
      await waitFor('the second process to refuse the revoked key', async () => (await statusWith(second, alpha, revoked.api_key)) === 401, 1_000, 10);
      expect(await statusWith(second, alpha, kept.api_key)).toBe(200);
    });
  });

  describe('last_used_at', () => {
    const flush = (process: TestApi) => process.app.get(ApiKeyUsageRecorder).flush();
    const lastUsed = async (key: Record<string, any>) => (await listKeys(api, alpha)).find((k) => k.id === key.id)?.last_used_at;

    it('shows the last use once flushed, and writes each key at most once a minute per process', async () => {
      const key = await createKey(api, alpha);
      const firstUse = api.clock.now().toISOString();
      for (let i = 0; i < 3; i++) expect(await statusWith(api, alpha, key.api_key)).toBe(200);
      await flush(api);
      expect(await lastUsed(key)).toBe(firstUse);

      // Within the minute: remembered, not written.
      api.clock.advance(30_000);
      expect(await statusWith(api, alpha, key.api_key)).toBe(200);
      await flush(api);
      expect(await lastUsed(key)).toBe(firstUse);

      // A minute after the last write, the latest use is written.
      api.clock.advance(30_000);
      await flush(api);
      expect(await lastUsed(key)).toBe(new Date(Date.parse(firstUse) + 30_000).toISOString());
    });

    it('never moves last_used_at backwards when another process flushes an older use', async () => {
      const key = await createKey(api, alpha);
      expect(await statusWith(api, alpha, key.api_key)).toBe(200);
      await flush(api);
      const written = await lastUsed(key);
      await api.db.query(`UPDATE app_api_keys SET last_used_at = last_used_at + interval '1 hour' WHERE id = $1`, [key.id]);
      expect(await statusWith(second, alpha, key.api_key)).toBe(200);
      await flush(second);
      expect(await lastUsed(key)).toBe(new Date(Date.parse(written) + 3_600_000).toISOString());
    });
  });

  describe('bad inputs change nothing', () => {
    const cases: Array<[string, 'get' | 'post' | 'delete', string, { body?: unknown; raw?: [string, string] }, number, string]> = [
      ['a key id that is not a UUID', 'delete', '/api-keys/not-a-uuid', {}, 404, 'not_found'],
      ['an unknown key id', 'delete', `/api-keys/${randomUUID()}`, {}, 404, 'not_found'],
      ['a name that is a number', 'post', '/api-keys', { body: { name: 42 } }, 422, 'validation_failed'],
      ['a name that is a list', 'post', '/api-keys', { body: { name: ['a'] } }, 422, 'validation_failed'],
      ['an empty name', 'post', '/api-keys', { body: { name: '' } }, 422, 'validation_failed'],
      ['a name over 100 characters', 'post', '/api-keys', { body: { name: 'n'.repeat(101) } }, 422, 'validation_failed'],
      ['an unknown field', 'post', '/api-keys', { body: { name: 'ok', scopes: ['admin'] } }, 422, 'validation_failed'],
      ['a JSON array as body', 'post', '/api-keys', { raw: ['application/json', '[{"name":"a"}]'] }, 422, 'validation_failed'],
      ['malformed JSON', 'post', '/api-keys', { raw: ['application/json', '{"name": '] }, 400, 'invalid_json'],
      ['a text/plain body', 'post', '/api-keys', { raw: ['text/plain', 'name=a'] }, 415, 'unsupported_media_type'],
      ['list limit 0', 'get', '/api-keys?limit=0', {}, 400, 'invalid_query'],
      ['list limit not a number', 'get', '/api-keys?limit=ten', {}, 400, 'invalid_query'],
      ['an unknown query parameter', 'get', '/api-keys?revoked=true', {}, 400, 'invalid_query'],
      ['a forged cursor', 'get', '/api-keys?cursor=bm90LWEtY3Vyc29y', {}, 400, 'invalid_cursor'],
    ];

    it.each(cases)('answers %s with a 4xx', async (_name, method, path, input, status, code) => {
      const count = `SELECT count(*)::int AS keys, count(revoked_at)::int AS revoked FROM app_api_keys WHERE app_id = $1`;
      const before = await api.db.query(count, [alpha.id]);
      const req = api.http[method](`/v1/apps/${alpha.id}${path}`).set(alpha.auth);
      const response = await (input.raw
        ? req.set('content-type', input.raw[0]).send(input.raw[1])
        : input.body !== undefined
          ? req.send(input.body as object)
          : req);
      expect(response.status).toBe(status);
      expect(response.body.code).toBe(code);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(await api.db.query(count, [alpha.id])).toEqual(before);
    });

    it('answers 404 to an app id that is not a UUID', async () => {
      await api.http.get('/v1/apps/not-a-uuid/api-keys').set(operator).expect(404);
    });
  });

  it('describes the three routes in the OpenAPI document', async () => {
    const doc = await api.http.get('/docs/openapi.json').expect(200);
    expect(Object.keys(doc.body.paths['/v1/apps/{appId}/api-keys']).sort()).toEqual(expect.arrayContaining(['get', 'post']));
    expect(doc.body.paths['/v1/apps/{appId}/api-keys/{keyId}']).toHaveProperty('delete');
  });
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/** GET from a given loopback address (Linux answers on all of 127/8), so tests can be several clients. */
function getFrom(api: TestApi, address: string, path: string, token?: string): Promise<RawResponse> {
  const { port } = api.app.getHttpServer().address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, localAddress: address, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

const wrongKey = (prefix = 'scw_ak_') =>
  prefix +
  randomBytes(32)
    .toString('base64url')
    .slice(0, 43 - (prefix.length - 7));

describe('Failed authentication rate limit', () => {
  let api: TestApi;
  let second: TestApi;
  let app: TestVideoApp;
  const appPath = () => `/v1/apps/${app.id}`;

  beforeAll(async () => {
    api = await startTestApi({ AUTH_FAILURE_LIMIT: '5', AUTH_FAILURE_WINDOW: '2s' });
    second = await startSecondApi(api);
    app = await createVideoApp(api);
  });
  afterAll(async () => {
    await second.close();
    await api.close();
  });

  async function failFrom(process: TestApi, address: string, times: number): Promise<void> {
    for (let i = 0; i < times; i++) expect((await getFrom(process, address, appPath(), wrongKey())).status).toBe(401);
  }

  it('answers 429 problem+json with Retry-After after 5 failures from one address, counted across API processes', async () => {
    await failFrom(api, '127.0.0.11', 3);
    await failFrom(second, '127.0.0.11', 2);
    for (const process of [api, second]) {
      const limited = await getFrom(process, '127.0.0.11', appPath(), wrongKey());
      expect(limited.status).toBe(429);
      expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(limited.body).toMatchObject({ status: 429, code: 'too_many_failed_authentications' });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(2);
    }
    // Missing and malformed credentials are failures too, and are limited the same way.
    expect((await getFrom(api, '127.0.0.11', appPath())).status).toBe(429);
  });

  it('refuses a valid key from a limited address without looking it up, unless this process already verified it', async () => {
    const warm = await createKey(api, app);
    const cold = await createKey(api, app);
    expect((await getFrom(api, '127.0.0.12', appPath(), warm.api_key)).status).toBe(200);
    await failFrom(api, '127.0.0.12', 5);
    // A 429 for a valid key this process never verified shows the database was not asked.
    expect((await getFrom(api, '127.0.0.12', appPath(), cold.api_key)).status).toBe(429);
    expect((await getFrom(second, '127.0.0.12', appPath(), warm.api_key)).status).toBe(429);
    // Checking these costs nothing, so they still pass.
    expect((await getFrom(api, '127.0.0.12', appPath(), warm.api_key)).status).toBe(200);
    expect((await getFrom(api, '127.0.0.12', appPath(), operator.authorization.slice('Bearer '.length))).status).toBe(200);
    // Successful authentications never count: another address with the same keys is not limited.
    expect((await getFrom(api, '127.0.0.13', appPath(), cold.api_key)).status).toBe(200);
    expect((await getFrom(api, '127.0.0.13', appPath(), wrongKey())).status).toBe(401);
  });

  it('limits a key prefix presented from many addresses, and only that prefix', async () => {
    const prefix = `scw_ak_${randomBytes(6).toString('base64url').slice(0, 6)}`;
    for (let i = 1; i <= 5; i++) expect((await getFrom(api, `127.0.1.${i}`, appPath(), wrongKey(prefix))).status).toBe(401);
    expect((await getFrom(second, '127.0.1.6', appPath(), wrongKey(prefix))).status).toBe(429);
    expect((await getFrom(second, '127.0.1.6', appPath(), wrongKey())).status).toBe(401);
  });

  it('lets a limited client in again once the window has passed', async () => {
    const key = await createKey(api, app);
    await failFrom(api, '127.0.0.14', 5);
    const limited = await getFrom(api, '127.0.0.14', appPath(), key.api_key);
    expect(limited.status).toBe(429);
    const limitedAt = Date.now();
    // Polling with the valid key: refused without counting while limited, 200 once the window is over.
    await waitFor('the window to pass', async () => (await getFrom(api, '127.0.0.14', appPath(), key.api_key)).status === 200, 3_000, 50);
    expect(Date.now() - limitedAt).toBeLessThanOrEqual(Number(limited.headers['retry-after']) * 1_000 + 100);
  });
});
