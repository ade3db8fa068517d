import { randomUUID } from 'node:crypto';
import { buildOpenApiDocumentOffline } from '../apps/api/src/openapi/openapi-offline';
import { buildRequest } from '../libs/shared/src/webhooks/webhook-request';
import { exampleScheduledCall } from '../apps/api/src/webhooks/webhook-test-example';
import { SCHEDULED_CALL_EXAMPLE, SCHEDULED_CALL_SCHEMA } from '../libs/shared/src/bookings/scheduled-call.schema';
import { toScheduledCallRecord } from '../libs/shared/src/bookings/scheduled-call.record';
import { createDataSource } from '../libs/shared/src/database/data-source';
import { SCHEDULED_CALL_STATUSES, ScheduledCall, ScheduledCallStatus } from '../libs/shared/src/entities';
import { BOOKING_EVENT_TYPES } from '../libs/shared/src/events/booking-events';
import { NoShowDetector } from '../libs/shared/src/no-show/no-show-detector';
import { FakeClock } from './support/fake-clock';
import { OpenApiValidator } from './support/openapi-validator';
import { createBooking, createVideoApp, startTestApi, TestApi } from './support/test-api';

const SCHEDULED_CALL = { $ref: '#/components/schemas/ScheduledCall' };
const T0 = new Date('2027-01-15T09:30:00.000Z');

function call(status: ScheduledCallStatus, filled: boolean): ScheduledCall {
  const at = (minutes: number) => (filled ? new Date(T0.getTime() + minutes * 60_000) : null);
  return {
    id: randomUUID(),
    appId: randomUUID(),
    status,
    scheduledAt: T0,
    endsAt: new Date(T0.getTime() + 1_800_000),
    durationMinutes: 30,
    timezone: 'Europe/Paris',
    guest: filled ? { name: 'Grace', email: 'grace@example.com', phone: '+14155550100' } : { name: 'Grace', email: 'grace@example.com', phone: null },
    agent: filled ? { id: 'agent-7', name: 'Alan', email: 'alan@example.com' } : null,
    requiresConfirmation: filled,
    previousScheduledAt: at(-60),
    rescheduleCount: filled ? 2 : 0,
    rescheduleReason: filled ? 'moved' : null,
    confirmedAt: at(-120),
    cancelledAt: at(-10),
    cancellationReason: filled ? 'ill' : null,
    noShowAt: at(15),
    guestJoinedAt: at(1),
    agentJoinedAt: at(2),
    metadata: filled ? { order: { id: 'A-1', lines: [1, 2] } } : {},
    version: filled ? 5 : 1,
    idempotencyKey: null,
    idempotencyFingerprint: null,
    createdAt: new Date(T0.getTime() - 86_400_000),
    updatedAt: T0,
  };
}

/**
 * The booking record and the webhook envelope are defined once (libs/shared, JSON Schema) and
 * published in the OpenAPI document. These tests hold the platform's own serialisers to that
 * definition: the record mapper behind every API answer and outbox payload, and the worker's
 * buildRequest that wraps the stored payload into the signed body and its headers.
 */
describe('Webhook event schema', () => {
  let validator: OpenApiValidator;

  beforeAll(async () => {
    validator = new OpenApiValidator(await buildOpenApiDocumentOffline());
  });

  it('publishes the shared booking record schema unchanged in the document', () => {
    expect(validator.document.components.schemas.ScheduledCall).toEqual(SCHEDULED_CALL_SCHEMA);
    expect(Object.keys(validator.document.webhooks).sort()).toEqual([...BOOKING_EVENT_TYPES].sort());
  });

  it.each(
    SCHEDULED_CALL_STATUSES.flatMap(
      (status) =>
        [
          [status, 'every optional field set'],
          [status, 'every optional field null'],
        ] as const,
    ),
  )('maps a %s call with %s to a record the schema accepts, and nothing more', (status, variant) => {
    const record = toScheduledCallRecord(call(status, variant === 'every optional field set'));
    expect(validator.errors(SCHEDULED_CALL, JSON.parse(JSON.stringify(record)))).toEqual([]);
  });

  it('documents an example record that the schema accepts', () => {
    expect(validator.errors(SCHEDULED_CALL, SCHEDULED_CALL_EXAMPLE)).toEqual([]);
  });

  it('refuses a record with a field missing, of the wrong type or not documented', () => {
    const record = JSON.parse(JSON.stringify(toScheduledCallRecord(call('scheduled', true))));
    const { reschedule_reason: _, ...missing } = record;
    expect(validator.errors(SCHEDULED_CALL, missing)).not.toEqual([]);
    expect(validator.errors(SCHEDULED_CALL, { ...record, version: '5' })).not.toEqual([]);
    expect(validator.errors(SCHEDULED_CALL, { ...record, internal_note: 'x' })).not.toEqual([]);
  });

  it('refuses a delivery without its signature, or whose record status cannot follow its event', () => {
    const payloadJson = JSON.stringify({ scheduled_call: toScheduledCallRecord(call('confirmed', true)) });
    const webhook = {
      url: 'https://receiver.example/hooks',
      subscriptionId: randomUUID(),
      eventId: randomUUID(),
      attempt: 1,
      payloadJson,
      secret: 's',
      previousSecret: null,
    };
    const confirmed = buildRequest({ ...webhook, event: 'scheduled.confirmed' }, new Date());
    expect(validator.webhookErrors(confirmed.headers, confirmed.body)).toEqual([]);
    const { 'x-apifycloud-signature': _, ...unsigned } = confirmed.headers;
    expect(validator.webhookErrors(unsigned, confirmed.body)).toEqual(['header X-ApifyCloud-Signature is missing']);
    const cancelled = buildRequest({ ...webhook, event: 'scheduled.cancelled' }, new Date());
    expect(validator.webhookErrors(cancelled.headers, cancelled.body).join()).toMatch(/status.*allowed values/);
  });

  it.each([...BOOKING_EVENT_TYPES])('builds a test send of %s whose example record and "test": true the document accepts', (event) => {
    const payloadJson = JSON.stringify({ scheduled_call: toScheduledCallRecord(exampleScheduledCall(randomUUID(), event, new Date())) });
    const request = buildRequest(
      {
        url: 'https://receiver.example/hooks',
        subscriptionId: randomUUID(),
        eventId: randomUUID(),
        event,
        attempt: 1,
        payloadJson,
        secret: 's',
        previousSecret: null,
        test: true,
      },
      new Date(),
    );
    expect(JSON.parse(request.body).test).toBe(true);
    expect(validator.webhookErrors(request.headers, request.body)).toEqual([]);
  });

  describe('on the real stack', () => {
    let api: TestApi;

    beforeAll(async () => {
      api = await startTestApi();
    });
    afterAll(async () => {
      await api.close();
    });

    it("wraps every stored event of every type into a body and headers that match the document's webhooks", async () => {
      const app = await createVideoApp(api, { name: 'Schema', no_show_grace_minutes: 0 });
      const path = (id: string, action: string) => `/v1/apps/${app.id}/scheduled-calls/${id}/${action}`;
      const full = await createBooking(api, app, { requires_confirmation: true });
      await api.http.post(path(full.id, 'confirm')).set(app.auth).expect(200);
      const later = new Date(api.clock.now().getTime() + 7_200_000).toISOString();
      await api.http.post(path(full.id, 'reschedule')).set(app.auth).send({ scheduled_at: later, reason: 'The guest asked.' }).expect(200);
      await api.http.post(path(full.id, 'join')).set(app.auth).send({ participant: 'guest' }).expect(200);
      await api.http.post(path(full.id, 'cancel')).set(app.auth).send({ reason: 'Ill.' }).expect(200);
      const bare = await createBooking(api, app, { agent: { id: 'agent-1' }, guest: { name: 'Ada', email: 'ada@example.com' }, metadata: undefined });
      const db = createDataSource(api.databaseUrl, 2, 'test-no-show');
      await db.initialize();
      try {
        await new NoShowDetector(db, new FakeClock()).runOnce(new Date(new Date(bare.scheduled_at).getTime() + 1_000));
      } finally {
        await db.destroy();
      }

      // As the worker reads them (delivery-attempts.repository.ts: payload::text) and sends them.
      const rows: Array<{ id: string; type: string; payload: string }> = await api.db.query(
        'SELECT id, type, payload::text AS payload FROM outbox_events ORDER BY seq',
      );
      expect(rows.map((r) => r.type).sort()).toEqual([...BOOKING_EVENT_TYPES, 'scheduled.created'].sort());
      for (const [i, row] of rows.entries()) {
        const { body, headers } = buildRequest(
          {
            url: 'https://receiver.example/hooks',
            subscriptionId: randomUUID(),
            eventId: row.id,
            event: row.type,
            attempt: i + 1,
            payloadJson: row.payload,
            secret: 'whsec_current',
            previousSecret: i % 2 === 0 ? 'whsec_previous' : null,
          },
          new Date(),
        );
        expect({ event: row.type, errors: validator.webhookErrors(headers, body) }).toEqual({ event: row.type, errors: [] });
      }
    });
  });
});
