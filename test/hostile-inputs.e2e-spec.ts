import fc from 'fast-check';
import { WebhookFanOut } from '../libs/shared/src/webhooks/webhook-fan-out.service';
import { createBooking, createVideoApp, startTestApi, TestApi, TestVideoApp } from './support/test-api';

/**
 * Property: whatever JSON body and query string a client sends to any route of the OpenAPI
 * document, the answer is a 4xx problem or a documented 2xx, never a 5xx, and a 4xx changes
 * nothing. Bodies and queries are generated from each route's own field names (so validators are
 * reached) with hostile values: NUL, lone surrogates, huge and non-finite numbers, deep nesting,
 * dates PostgreSQL cannot store, nulls, wrong types, reserved keys.
 */
jest.setTimeout(180_000);

const RUNS_PER_ROUTE = Number(process.env.PROPERTY_RUNS ?? 25);

interface Operation {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  bodyFields: string[];
  queryFields: string[];
  documented: Set<number>;
}

type Schema = { $ref?: string; properties?: Record<string, unknown>; allOf?: Schema[] };

const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udfff',
    '\ud83d',
    '',
    ' ',
    'x'.repeat(5_000),
    '-271821-04-20T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '275760-09-13T00:00:00Z',
    '2026-02-30T10:00:00Z',
    'NaN',
    '1e400',
    '../../etc/passwd',
    '*',
    'scheduled.created',
    '00000000-0000-4000-8000-000000000000',
  ),
);
const hostileScalar = fc.oneof(
  hostileString,
  fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 31, 2 ** 53, -(2 ** 63), 1e308, Number.MAX_SAFE_INTEGER),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, hostileScalar, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(hostileString, tie('value'), { maxKeys: 4 })),
})).value;

/** A JSON text, sometimes with what JSON.stringify cannot produce: 1e400, 5,000 levels of nesting, reserved keys. */
function bodyText(fields: string[]): fc.Arbitrary<string> {
  const known = fields.length > 0 ? fc.dictionary(fc.constantFrom(...fields), hostileValue, { maxKeys: fields.length }) : fc.constant({});
  return fc.oneof(
    known.map((o) => JSON.stringify(o)),
    hostileValue.map((v) => JSON.stringify(v) ?? 'null'),
    fc.constantFrom(
      '{"a":1e400}',
      `{"a":${'['.repeat(5_000)}${']'.repeat(5_000)}}`,
      '{"constructor":{"prototype":{"x":1}}}',
      '{"constructor":"x"}',
      '{"__proto__":{"admin":true}}',
      '{"a":"\\u0000"}',
      '{"a":"\\ud800"}',
      '[]',
      '"x"',
      'null',
      '{}',
      '{"a":',
      '',
    ),
  );
}

function queryText(fields: string[]): fc.Arbitrary<string> {
  const keys = fc.oneof(
    fc.constantFrom(...fields, 'constructor', '__proto__', 'sort', 'limit', 'cursor', 'status', 'from', 'to'),
    fc.string({ maxLength: 10 }),
  );
  const value = fc.oneof(hostileString, fc.integer().map(String));
  return fc.array(fc.tuple(keys, value), { maxLength: 4 }).map((pairs) => pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&'));
}

/** Percent-encodes UTF-16 as it is, lone surrogates too (encodeURIComponent throws on them). */
function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return [...text].map((c) => `%${(c.charCodeAt(0) & 0xff).toString(16).padStart(2, '0')}`).join('');
  }
}

describe('Hostile inputs on every route (property)', () => {
  let api: TestApi;
  let app: TestVideoApp;
  let ids: Record<string, string>;
  let operations: Operation[];
  let fanOut: WebhookFanOut;

  beforeAll(async () => {
    api = await startTestApi();
    app = await createVideoApp(api, { name: 'Property' });
    const call = await createBooking(api, app);
    const sub = (
      await api.http
        .post(`/v1/apps/${app.id}/webhook-subscriptions`)
        .set(app.auth)
        .send({ url: 'http://127.0.0.1:9/x', events: ['*'] })
        .expect(201)
    ).body;
    // A failed delivery of an event already fanned out (taken off outbox_pending in the same transaction).
    const delivery = await api.db.transaction(async (manager) => {
      const [event]: Array<{ id: string; occurred_at: Date }> = await manager.query(
        `INSERT INTO outbox_events (id, app_id, scheduled_call_id, type, payload, occurred_at)
        VALUES (gen_random_uuid(), $1, $2, 'scheduled.created', '{}'::json, now()) RETURNING id, occurred_at`,
        [app.id, call.id],
      );
      await manager.query(`DELETE FROM outbox_pending WHERE event_id = $1`, [event.id]);
      const [row]: Array<{ id: string }> = await manager.query(
        `INSERT INTO webhook_deliveries (id, event_at, app_id, subscription_id, event_id, scheduled_call_id, event, status, attempt_count, created_at, updated_at)
        VALUES (uuid_v7_at($4), date_trunc('milliseconds', $4::timestamptz), $1, $2, $3, $5, 'scheduled.created', 'failed', 3, now(), now()) RETURNING id`,
        [app.id, sub.id, event.id, event.occurred_at, call.id],
      );
      return row;
    });
    ids = { appId: app.id, id: call.id, callId: call.id, subId: sub.id, deliveryId: delivery.id };
    operations = readOperations((await api.http.get('/docs/openapi.json').expect(200)).body);
    fanOut = api.app.get(WebhookFanOut);
  });
  afterAll(() => api.close());

  async function snapshot(): Promise<unknown> {
    const [row] = await api.db.query(`SELECT
      (SELECT count(*) FROM video_apps) AS apps, (SELECT count(*) FROM app_api_keys) AS keys, (SELECT count(*) FROM scheduled_calls) AS calls,
      (SELECT count(*) FROM outbox_events) AS events, (SELECT count(*) FROM webhook_subscriptions) AS subs,
      (SELECT count(*) FROM webhook_deliveries) AS deliveries, (SELECT count(*) FROM webhook_attempts) AS attempts,
      (SELECT md5(string_agg(row_to_json(t)::text, '' ORDER BY id)) FROM video_apps t) AS apps_hash,
      (SELECT md5(string_agg(row_to_json(t)::text, '' ORDER BY id)) FROM scheduled_calls t) AS calls_hash,
      (SELECT md5(string_agg(row_to_json(t)::text, '' ORDER BY id)) FROM webhook_subscriptions t) AS subs_hash,
      (SELECT md5(string_agg(row_to_json(t)::text, '' ORDER BY id)) FROM webhook_deliveries t) AS deliveries_hash`);
    return row;
  }

  it('reads the routes from the OpenAPI document', () => {
    expect(operations.length).toBeGreaterThanOrEqual(20);
  });

  it('answers every hostile request with a 4xx (changing nothing) or a documented 2xx, never a 5xx', async () => {
    for (const operation of operations) {
      const path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] ?? '00000000-0000-4000-8000-000000000000');
      const body = operation.method === 'get' || operation.method === 'delete' ? fc.constant(undefined) : bodyText(operation.bodyFields);
      await fc.assert(
        fc.asyncProperty(body, queryText(operation.queryFields), async (text, query) => {
          // A 2xx before this one may have woken the fan-out: let it finish, so its rows are not taken for this request's.
          await fanOut.idle();
          const before = await snapshot();
          const target = query ? `${path}?${query}` : path;
          let request = api.http[operation.method](target).set(app.auth);
          if (text !== undefined) request = request.set('content-type', 'application/json').send(text);
          const response = await request;
          const where = `${operation.method.toUpperCase()} ${target.slice(0, 200)} ${String(text).slice(0, 200)}`;
          if (response.status >= 500) throw new Error(`${where} answered ${response.status}: ${JSON.stringify(response.body)}`);
          if (response.status >= 400) {
            if (!String(response.headers['content-type']).includes('application/problem+json'))
              throw new Error(`${where}: a ${response.status} without problem+json`);
            await fanOut.idle();
            const after = await snapshot();
            if (JSON.stringify(after) !== JSON.stringify(before))
              throw new Error(`${where} answered ${response.status} but changed ${JSON.stringify({ before, after })}`);
          } else if (!operation.documented.has(response.status)) {
            throw new Error(`${where} answered ${response.status}, not a documented status (${[...operation.documented].join(', ')})`);
          }
        }),
        { numRuns: RUNS_PER_ROUTE },
      );
    }
  });
});

function readOperations(document: { paths: Record<string, Record<string, any>>; components?: { schemas?: Record<string, Schema> } }): Operation[] {
  const schemas = document.components?.schemas ?? {};
  const fieldsOf = (schema: Schema | undefined, seen = 0): string[] => {
    if (!schema || seen > 5) return [];
    if (schema.$ref) return fieldsOf(schemas[schema.$ref.split('/').pop()!], seen + 1);
    return [...Object.keys(schema.properties ?? {}), ...(schema.allOf ?? []).flatMap((s) => fieldsOf(s, seen + 1))];
  };
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    if (!path.startsWith('/v1/')) continue;
    for (const [method, operation] of Object.entries(methods)) {
      if (!['get', 'post', 'patch', 'delete'].includes(method)) continue;
      operations.push({
        method: method as Operation['method'],
        path,
        bodyFields: fieldsOf(operation.requestBody?.content?.['application/json']?.schema),
        queryFields: (operation.parameters ?? []).filter((p: { in: string }) => p.in === 'query').map((p: { name: string }) => p.name),
        documented: new Set(
          Object.keys(operation.responses ?? {})
            .filter((code) => /^2\d\d$/.test(code))
            .map(Number),
        ),
      });
    }
  }
  return operations;
}
