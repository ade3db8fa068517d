import { InMemorySpanExporter, ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createDataSource } from '../libs/shared/src/database/data-source';
import { createServer, IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { readWorkerConfig } from '../apps/worker/src/config/worker-config';
import { WorkerModule } from '../apps/worker/src/worker.module';
import { createTestDatabase } from './support/database';
import { FakeClock } from './support/fake-clock';
import { createBooking, createSubscription, createVideoApp, startTestApi, TestApi, TestVideoApp } from './support/test-api';
import { TestReceiver, TestReceivers } from './support/test-receiver';
import { WorkerProcess } from './support/worker-process';
import { FAST_WORKER_ENV, startTestWorker, TestWorker } from './support/test-worker';
import { waitFor } from './support/wait-for';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

/** The span named `name` whose attributes include `attributes`, once it has ended. */
function spanNamed(spans: ReadableSpan[], name: string, attributes: Record<string, unknown> = {}): ReadableSpan | undefined {
  return spans.find((s) => s.name === name && Object.entries(attributes).every(([k, v]) => s.attributes[k] === v));
}

const traceOf = (spans: ReadableSpan[], traceId: string): ReadableSpan[] => spans.filter((s) => s.spanContext().traceId === traceId);
const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
const serviceOf = (span: ReadableSpan): unknown => span.resource.attributes['service.name'];

/** Every span's parent is another span of the same trace, except `root`'s: one connected tree. */
function expectConnected(spans: ReadableSpan[], root: ReadableSpan): void {
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  for (const span of spans) {
    if (span === root) continue;
    expect({ span: span.name, parentFound: ids.has(parentOf(span) ?? '') }).toEqual({ span: span.name, parentFound: true });
  }
}

describe('Tracing', () => {
  describe('with an exporter (in memory)', () => {
    const exporter = new InMemorySpanExporter();
    const receivers = new TestReceivers();
    let api: TestApi;
    let worker: TestWorker;
    let tenant: TestVideoApp;

    beforeAll(async () => {
      api = await startTestApi(
        { WEBHOOK_RETRY_SCHEDULE: '0s,150ms,150ms', WEBHOOK_TIMEOUT_MS: '2000' },
        { tracing: { spanProcessors: [new SimpleSpanProcessor(exporter)] } },
      );
      worker = await startTestWorker(api, {}, { spanProcessors: [new SimpleSpanProcessor(exporter)] });
      tenant = await createVideoApp(api);
    });
    afterAll(async () => {
      await worker?.close();
      await receivers.stopAll();
      await api?.close();
    });

    async function deliveryOf(callId: string): Promise<Record<string, any>> {
      const listed = await api.http.get(`/v1/apps/${tenant.id}/scheduled-calls/${callId}/deliveries`).set(tenant.auth).expect(200);
      return (await api.http.get(`/v1/apps/${tenant.id}/webhook-deliveries/${listed.body.data[0].id}`).set(tenant.auth).expect(200)).body;
    }

    it('follows one booking change from the API request to the webhook POST in one connected trace, which the receiver joins', async () => {
      const receiver = await receivers.start();
      await createSubscription(api, tenant, `${receiver.url}/hooks?token=not-in-spans`);
      exporter.reset();

      const call = await createBooking(api, tenant);
      const [request] = await waitFor('the webhook', () => receiver.requests.length > 0 && receiver.requests);
      const attempt = await waitFor('the attempt span', () => spanNamed(exporter.getFinishedSpans(), 'webhook delivery attempt'));

      const requestSpan = spanNamed(exporter.getFinishedSpans(), 'POST /v1/apps/:appId/scheduled-calls')!;
      expect(requestSpan).toBeDefined();
      expect(parentOf(requestSpan)).toBeUndefined();
      expect(serviceOf(requestSpan)).toBe('scheduled-calls-api');
      expect(requestSpan.attributes).toMatchObject({
        'http.request.method': 'POST',
        'http.route': '/v1/apps/:appId/scheduled-calls',
        'http.response.status_code': 201,
      });
      const traceId = requestSpan.spanContext().traceId;
      const spans = traceOf(exporter.getFinishedSpans(), traceId);

      const [event] = await api.db.query(`SELECT id, trace_context FROM outbox_events WHERE scheduled_call_id = $1`, [call.id]);
      expect(event.trace_context).toBe(`00-${traceId}-${requestSpan.spanContext().spanId}-01`);
      const fanOut = spanNamed(spans, 'webhook fan-out', { 'scw.event.id': event.id });
      expect(fanOut).toBeDefined();
      expect(parentOf(fanOut!)).toBe(requestSpan.spanContext().spanId);
      expect(attempt.spanContext().traceId).toBe(traceId);
      expect(parentOf(attempt)).toBe(requestSpan.spanContext().spanId);
      expect(serviceOf(attempt)).toBe('scheduled-calls-worker');
      expect(attempt.attributes).toMatchObject({ 'scw.event.id': event.id, 'scw.delivery.attempt': 1, 'scw.delivery.status': 'succeeded' });
      const post = spanNamed(spans, 'POST')!;
      expect(parentOf(post)).toBe(attempt.spanContext().spanId);
      expect(post.attributes).toMatchObject({ 'http.response.status_code': 200, 'url.full': `${receiver.url}/hooks` });
      expect(spans.map((s) => s.name).sort()).toEqual(['POST', 'POST /v1/apps/:appId/scheduled-calls', 'webhook delivery attempt', 'webhook fan-out']);
      expectConnected(spans, requestSpan);

      // The receiver's trace joins ours under the POST span, and the attempt log shows the header as sent.
      expect(request.headers.traceparent).toBe(`00-${traceId}-${post.spanContext().spanId}-01`);
      const stored = await waitFor('the recorded attempt', async () => (await deliveryOf(call.id)).attempts[0]);
      expect(stored.request_headers.traceparent).toBe(request.headers.traceparent);
    });

    it("continues the caller's trace when the API request carries a traceparent", async () => {
      const receiver = await receivers.start();
      const other = await createVideoApp(api, { name: 'Traced caller' });
      await createSubscription(api, other, `${receiver.url}/hooks`);
      exporter.reset();
      const callerTrace = 'a1'.repeat(16);
      const callerSpan = 'b2'.repeat(8);

      await api.http
        .post(`/v1/apps/${other.id}/scheduled-calls`)
        .set(other.auth)
        .set('traceparent', `00-${callerTrace}-${callerSpan}-01`)
        .set('tracestate', 'vendor=opaque')
        .send({
          scheduled_at: new Date(api.clock.now().getTime() + 3_600_000).toISOString(),
          duration_minutes: 30,
          guest: { name: 'G', email: 'g@example.com' },
        })
        .expect(201);
      const [request] = await waitFor('the webhook', () => receiver.requests.length > 0 && receiver.requests);

      const requestSpan = await waitFor('the request span', () => spanNamed(exporter.getFinishedSpans(), 'POST /v1/apps/:appId/scheduled-calls'));
      expect(requestSpan.spanContext().traceId).toBe(callerTrace);
      expect(parentOf(requestSpan)).toBe(callerSpan);
      expect(request.headers.traceparent).toMatch(new RegExp(`^00-${callerTrace}-[0-9a-f]{16}-01$`));
      // The caller's vendor state travels with the trace, through the outbox row, to the receiver.
      expect(request.headers.tracestate).toBe('vendor=opaque');
    });

    it("puts every attempt of a retried delivery in the booking change's trace, one span per attempt", async () => {
      const receiver = await receivers.start();
      const retried = await createVideoApp(api, { name: 'Retried' });
      await createSubscription(api, retried, `${receiver.url}/hooks`);
      let answered = 0;
      receiver.responder = (_, res) => void res.writeHead(answered++ === 0 ? 500 : 200).end();
      exporter.reset();

      await createBooking(api, retried);
      await waitFor('the second attempt', () => receiver.requests.length >= 2);
      const requestSpan = await waitFor('the request span', () => spanNamed(exporter.getFinishedSpans(), 'POST /v1/apps/:appId/scheduled-calls'));
      const traceId = requestSpan.spanContext().traceId;
      const attempts = await waitFor('both attempt spans', () => {
        const found = traceOf(exporter.getFinishedSpans(), traceId).filter((s) => s.name === 'webhook delivery attempt');
        return found.length >= 2 && found;
      });
      expect(attempts.map((s) => [s.spanContext().traceId, s.attributes['scw.delivery.attempt'], s.attributes['scw.delivery.status']])).toEqual([
        [traceId, 1, 'retrying'],
        [traceId, 2, 'succeeded'],
      ]);
      const parents = receiver.requests.map((r) => TRACEPARENT.exec(String(r.headers.traceparent)));
      expect(parents.map((m) => m?.[1])).toEqual([traceId, traceId]);
      expect(parents[0]![2]).not.toBe(parents[1]![2]);
      // The retry waited in a timer job, whose span carries the trace on from the failed attempt.
      const spans = traceOf(exporter.getFinishedSpans(), traceId);
      const timer = spanNamed(spans, 'webhook retry timer');
      expect(timer).toBeDefined();
      expect(parentOf(timer!)).toBe(attempts[0].spanContext().spanId);
      expectConnected(spans, requestSpan);
    });
    it('traces a test send from its API request to the POST', async () => {
      const receiver = await receivers.start();
      const probed = await createVideoApp(api, { name: 'Probed' });
      const sub = await createSubscription(api, probed, `${receiver.url}/hooks`);
      exporter.reset();
      await api.http.post(`/v1/apps/${probed.id}/webhook-subscriptions/${sub.id}/test`).set(probed.auth).send({}).expect(202);
      const [request] = await waitFor('the test send', () => receiver.requests.length > 0 && receiver.requests);
      expect(request.json.test).toBe(true);
      const requestSpan = await waitFor('the request span', () =>
        spanNamed(exporter.getFinishedSpans(), 'POST /v1/apps/:appId/webhook-subscriptions/:subId/test'),
      );
      expect(TRACEPARENT.exec(String(request.headers.traceparent))?.[1]).toBe(requestSpan.spanContext().traceId);
    });

    it('starts a trace for each no-show, which its webhook continues', async () => {
      const receiver = await receivers.start();
      const absent = await createVideoApp(api, { name: 'Absent', no_show_grace_minutes: 0 });
      await createSubscription(api, absent, `${receiver.url}/hooks`, ['scheduled.no_show']);
      const call = await createBooking(api, absent);
      const future = new FakeClock(new Date(Date.now() + 2 * 3_600_000));
      const config = readWorkerConfig({ ...api.env, ...FAST_WORKER_ENV, NO_SHOW_INTERVAL: '50ms' });
      const detector = await NestFactory.createApplicationContext(
        WorkerModule.forRoot(config, future, { spanProcessors: [new SimpleSpanProcessor(exporter)] }),
        { logger: ['error'] },
      );
      try {
        const [request] = await waitFor('the no-show webhook', () => receiver.requests.length > 0 && receiver.requests);
        const noShow = await waitFor('the no-show span', () => spanNamed(exporter.getFinishedSpans(), 'booking no-show', { 'scw.scheduled_call.id': call.id }));
        expect(parentOf(noShow)).toBeUndefined();
        expect(TRACEPARENT.exec(String(request.headers.traceparent))?.[1]).toBe(noShow.spanContext().traceId);
        const attempt = await waitFor('the attempt span', () =>
          spanNamed(traceOf(exporter.getFinishedSpans(), noShow.spanContext().traceId), 'webhook delivery attempt'),
        );
        expect(parentOf(attempt)).toBe(noShow.spanContext().spanId);
      } finally {
        await detector.close();
      }
    });
  });

  describe('without an exporter (the default)', () => {
    let api: TestApi;
    let worker: TestWorker;
    let receiver: TestReceiver;

    beforeAll(async () => {
      api = await startTestApi();
      worker = await startTestWorker(api);
      receiver = await new TestReceiver().start();
    });
    afterAll(async () => {
      await worker?.close();
      await receiver?.stop();
      await api?.close();
    });

    it('sends no traceparent and stores no trace context, even when the API request carried one', async () => {
      const tenant = await createVideoApp(api);
      await createSubscription(api, tenant, `${receiver.url}/hooks`);
      const response = await api.http
        .post(`/v1/apps/${tenant.id}/scheduled-calls`)
        .set(tenant.auth)
        .set('traceparent', `00-${'c3'.repeat(16)}-${'d4'.repeat(8)}-01`)
        .send({
          scheduled_at: new Date(api.clock.now().getTime() + 3_600_000).toISOString(),
          duration_minutes: 30,
          guest: { name: 'G', email: 'g@example.com' },
        })
        .expect(201);
      const [request] = await waitFor('the webhook', () => receiver.requests.length > 0 && receiver.requests);
      expect(request.headers.traceparent).toBeUndefined();
      expect(request.headers.tracestate).toBeUndefined();
      const [event] = await api.db.query(`SELECT trace_context FROM outbox_events WHERE scheduled_call_id = $1`, [response.body.id]);
      expect(event.trace_context).toBeNull();
    });
  });

  describe('the trace_context migration', () => {
    it('reverts to the previous schema (the trigger still lists new events) and applies again', async () => {
      const db = createDataSource(await createTestDatabase(), 2, 'test-trace-migration');
      await db.initialize();
      const columns = () =>
        db.query(
          `SELECT table_name FROM information_schema.columns WHERE column_name = 'trace_context' AND table_name IN ('outbox_events', 'outbox_pending') ORDER BY 1`,
        );
      const eventWithPending = async (traceContext: string | null): Promise<unknown> => {
        const [app] = await db.query(`INSERT INTO video_apps (id, name, created_at, updated_at) VALUES (gen_random_uuid(), 'm', now(), now()) RETURNING id`);
        const [call] = await db.query(
          `INSERT INTO scheduled_calls (id, app_id, status, scheduled_at, ends_at, duration_minutes, timezone, guest, requires_confirmation, metadata, version, reschedule_count, created_at, updated_at)
           VALUES (gen_random_uuid(), $1, 'scheduled', now(), now(), 30, 'UTC', '{}', false, '{}', 1, 0, now(), now()) RETURNING id`,
          [app.id],
        );
        const [event] = await db.query(
          `INSERT INTO outbox_events (id, app_id, scheduled_call_id, type, payload, occurred_at${traceContext ? ', trace_context' : ''})
           VALUES (gen_random_uuid(), $1, $2, 'scheduled.created', '{}', now()${traceContext ? ', $3' : ''}) RETURNING id`,
          traceContext ? [app.id, call.id, traceContext] : [app.id, call.id],
        );
        return (await db.query(`SELECT * FROM outbox_pending WHERE event_id = $1`, [event.id]))[0];
      };
      try {
        expect(await columns()).toEqual([{ table_name: 'outbox_events' }, { table_name: 'outbox_pending' }]);
        const traceparent = `00-${'e5'.repeat(16)}-${'f6'.repeat(8)}-01`;
        expect(await eventWithPending(traceparent)).toMatchObject({ trace_context: traceparent });
        await db.undoLastMigration({ transaction: 'each' });
        expect(await columns()).toEqual([]);
        expect(await eventWithPending(null)).toBeDefined();
        expect((await db.runMigrations({ transaction: 'each' })).map((m) => m.name)).toEqual(['TraceContext1764380000000']);
        expect(await columns()).toHaveLength(2);
      } finally {
        await db.destroy();
      }
    });
  });

  describe('with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
    // The worker as its own process (built from source, as in production): Jest's VM cannot run the
    // OTLP exporter's dynamic imports, and a second process is what the trace has to cross anyway.
    it("joins the API's trace in a worker process, which exports over OTLP/HTTP (protobuf) with the configured headers when it stops", async () => {
      const exports: Array<{ url: string; headers: IncomingHttpHeaders; body: Buffer }> = [];
      const collector = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          exports.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        });
      });
      await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
      const exporter = new InMemorySpanExporter();
      const api = await startTestApi({}, { tracing: { spanProcessors: [new SimpleSpanProcessor(exporter)] } });
      const receiver = await new TestReceiver().start();
      const worker = new WorkerProcess({
        ...api.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}/`,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=k%201',
        LOG_LEVEL: 'warn',
      });
      try {
        await waitFor('the worker process', () => worker.started, 20_000);
        const tenant = await createVideoApp(api);
        await createSubscription(api, tenant, `${receiver.url}/hooks`);
        await createBooking(api, tenant);
        const [request] = await waitFor('the webhook', () => receiver.requests.length > 0 && receiver.requests, 15_000);
        const requestSpan = await waitFor('the request span', () => spanNamed(exporter.getFinishedSpans(), 'POST /v1/apps/:appId/scheduled-calls'));
        const traceId = requestSpan.spanContext().traceId;
        expect(TRACEPARENT.exec(String(request.headers.traceparent))?.[1]).toBe(traceId);

        await worker.kill('SIGTERM');
        expect(exports.length).toBeGreaterThan(0);
        expect(exports[0]).toMatchObject({ url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf', 'x-collector-key': 'k 1' } });
        const body = Buffer.concat(exports.map((e) => e.body));
        expect(body.includes('scheduled-calls-worker')).toBe(true);
        expect(body.includes('webhook delivery attempt')).toBe(true);
        // Trace ids travel as raw bytes in OTLP protobuf.
        expect(body.includes(Buffer.from(traceId, 'hex'))).toBe(true);
      } finally {
        await worker.kill('SIGKILL');
        await receiver.stop();
        await api.close();
        await new Promise((resolve) => collector.close(resolve));
      }
    });
  });
});
