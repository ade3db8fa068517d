import { BOOKING_TRANSITIONS } from '../bookings/booking-state';
import { JsonSchema, SCHEDULED_CALL_SCHEMA } from '../bookings/scheduled-call.schema';
import { UUID_PATTERN_SOURCE } from '../database/uuid';
import type { ScheduledCallStatus } from '../entities/scheduled-call.entity';
import { BookingEvents, BookingEventType, BOOKING_EVENT_TYPES } from './booking-events';

/**
 * The webhook wire contract (SPEC §3) as data: the body's JSON Schema and the headers of each
 * event type. The OpenAPI document's `webhooks` are built from it, and
 * test/webhook-event-schema.e2e-spec.ts holds the worker's request builder to it.
 */

/** What each event type means to a receiver. */
export const WEBHOOK_EVENT_DESCRIPTIONS: Readonly<Record<BookingEventType, string>> = {
  [BookingEvents.Created]: 'A scheduled call was created: `scheduled`, or `pending_confirmation` when it requires confirmation.',
  [BookingEvents.Confirmed]: 'The customer confirmed a `pending_confirmation` call.',
  [BookingEvents.Rescheduled]: 'The call moved to a new `scheduled_at` (the old one is in `previous_scheduled_at`); its status is unchanged.',
  [BookingEvents.Cancelled]: 'The call was cancelled (final).',
  [BookingEvents.NoShow]: "Nobody joined by `scheduled_at` plus the app's grace period (final). Sent once per call.",
};

/** The statuses a call can be in right after each event, read from the transition table. */
export const STATUSES_AFTER_EVENT: Readonly<Record<BookingEventType, readonly ScheduledCallStatus[]>> = Object.fromEntries(
  BOOKING_EVENT_TYPES.map((event) => {
    if (event === BookingEvents.Created) return [event, ['pending_confirmation', 'scheduled']];
    const transition = Object.values(BOOKING_TRANSITIONS).find((t) => t.event === event);
    if (!transition) throw new Error(`No transition fires ${event}`);
    return [event, transition.to ? [transition.to] : transition.from];
  }),
) as Record<BookingEventType, readonly ScheduledCallStatus[]>;

const SIGNATURE: JsonSchema = { type: 'string', pattern: '^sha256=[0-9a-f]{64}$' };

/**
 * The body of one delivery of `event`. `scheduledCall` is the booking record's schema, or a
 * reference to it (the OpenAPI document passes `{ $ref: … }`).
 */
export function webhookEventSchema(event: BookingEventType, scheduledCall: JsonSchema = SCHEDULED_CALL_SCHEMA): JsonSchema {
  return {
    type: 'object',
    description: `The signed body of a \`${event}\` delivery. ${WEBHOOK_EVENT_DESCRIPTIONS[event]}`,
    required: ['id', 'subscription_id', 'event', 'deliveredAt', 'attempt', 'payload'],
    properties: {
      id: {
        type: 'string',
        format: 'uuid',
        description: 'The event id: the same across every attempt, manual retry and subscription. Deduplicate on `subscription_id` + `id`.',
      },
      subscription_id: { type: 'string', format: 'uuid', description: 'The subscription this delivery is for.' },
      event: { type: 'string', const: event },
      deliveredAt: {
        type: 'string',
        format: 'date-time',
        description: 'When this attempt was sent (inside the signed body: reject old ones as replays). Equals the X-ApifyCloud-Timestamp header.',
      },
      attempt: { type: 'integer', minimum: 1, description: 'Counts every attempt of this delivery, automatic and manual, from 1.' },
      test: {
        type: 'boolean',
        const: true,
        description: 'Present, and true, only on a test send, which carries an example record; every other delivery has no `test` field.',
      },
      payload: {
        type: 'object',
        required: ['scheduled_call'],
        properties: {
          scheduled_call: {
            description: 'The scheduled call as of the event.',
            allOf: [
              scheduledCall,
              { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: [...STATUSES_AFTER_EVENT[event]] } } },
            ],
          },
        },
      },
    },
  };
}

export interface WebhookHeader {
  /** As SPEC §3 spells it; HTTP header names are case-insensitive. */
  name: string;
  required: boolean;
  description: string;
  schema: JsonSchema;
}

/** The headers of every delivery of `event`, besides `Content-Type: application/json`. */
export function webhookHeaders(event: BookingEventType): WebhookHeader[] {
  return [
    { name: 'User-Agent', required: true, description: 'The platform and its version.', schema: { type: 'string', pattern: '^ApifyCloud-Webhooks/\\S+$' } },
    {
      name: 'X-ApifyCloud-Signature',
      required: true,
      description:
        'sha256= and the hex HMAC-SHA256 of the exact body bytes, keyed with the subscription secret. Verify it over the raw body, in constant time.',
      schema: SIGNATURE,
    },
    {
      name: 'X-ApifyCloud-Signature-Previous',
      required: false,
      description: "During a secret rotation's grace period only: the same signature made with the previous secret.",
      schema: SIGNATURE,
    },
    { name: 'X-ApifyCloud-Event', required: true, description: 'The event type, as in the body.', schema: { type: 'string', const: event } },
    {
      name: 'X-ApifyCloud-Delivery',
      required: true,
      description: '`<subscription_id>:<attempt>`, agreeing with the body (reject the delivery when it does not).',
      schema: { type: 'string', pattern: `^${UUID_PATTERN_SOURCE}:[1-9][0-9]*$` },
    },
    {
      name: 'X-ApifyCloud-Timestamp',
      required: true,
      description: "The same instant as the body's `deliveredAt`.",
      schema: { type: 'string', format: 'date-time' },
    },
    { name: 'X-ApifyCloud-Event-Id', required: true, description: "The body's `id`.", schema: { type: 'string', format: 'uuid' } },
    {
      name: 'traceparent',
      required: false,
      description:
        'When the platform runs with tracing on: the W3C Trace Context of this POST, so a traced receiver joins the trace of the booking change. Not signed; ignore it freely.',
      schema: { type: 'string', pattern: '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' },
    },
    {
      name: 'tracestate',
      required: false,
      description: 'With `traceparent`, when the trace carries vendor state (W3C Trace Context).',
      schema: { type: 'string' },
    },
  ];
}
