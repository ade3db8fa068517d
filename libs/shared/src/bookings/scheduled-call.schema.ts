import { SCHEDULED_CALL_STATUSES } from '../entities/scheduled-call.entity';
import type { ScheduledCallRecord } from './scheduled-call.record';

/**
 * A JSON Schema (draft 2020-12, which is also OpenAPI 3.1's schema dialect). Plain data, so the
 * same object serves the OpenAPI document, the tests that validate payloads and any generator.
 */
export type JsonSchema = { readonly [keyword: string]: unknown };

const instant = (description: string): JsonSchema => ({ type: 'string', format: 'date-time', description });
const instantOrNull = (description: string): JsonSchema => ({ type: ['string', 'null'], format: 'date-time', description });
const textOrNull = (description: string): JsonSchema => ({ type: ['string', 'null'], description });

export const SCHEDULED_CALL_GUEST_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'Who booked the call.',
  required: ['name', 'email'],
  properties: {
    name: { type: 'string' },
    email: { type: 'string', format: 'email' },
    phone: textOrNull('Phone number as given, or null.'),
  },
};

export const SCHEDULED_CALL_AGENT_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'The assigned agent.',
  required: ['id'],
  properties: {
    id: { type: 'string', description: "The app's own identifier for the agent." },
    name: textOrNull('Display name, or null.'),
    email: { type: ['string', 'null'], format: 'email' },
  },
};

/** An example record: shown in the documentation, and the shape a test send carries (SPEC §3). */
export const SCHEDULED_CALL_EXAMPLE: ScheduledCallRecord = {
  id: '6f1c2f0e-8d7b-4a51-9c36-2b0f4f7c9a10',
  app_id: '0b6f5e54-3c2d-4c7e-9a1b-5d8e7f6a4b3c',
  status: 'confirmed',
  scheduled_at: '2027-01-15T09:30:00.000Z',
  ends_at: '2027-01-15T10:00:00.000Z',
  duration_minutes: 30,
  timezone: 'Europe/Paris',
  guest: { name: 'Grace Hopper', email: 'grace@example.com', phone: '+14155550100' },
  agent: { id: 'agent-7', name: 'Alan Turing', email: 'alan@example.com' },
  requires_confirmation: true,
  previous_scheduled_at: '2027-01-14T09:30:00.000Z',
  reschedule_count: 1,
  reschedule_reason: 'The guest asked for another day.',
  confirmed_at: '2026-12-01T08:12:44.120Z',
  cancelled_at: null,
  cancellation_reason: null,
  no_show_at: null,
  guest_joined_at: null,
  agent_joined_at: null,
  metadata: { order_id: 'A-1234' },
  version: 3,
  created_at: '2026-12-01T08:00:00.000Z',
  updated_at: '2026-12-01T08:30:05.318Z',
};

/** One entry per field of ScheduledCallRecord: the compiler refuses a missing or an extra one. */
const SCHEDULED_CALL_PROPERTIES = {
  id: { type: 'string', format: 'uuid' },
  app_id: { type: 'string', format: 'uuid', description: 'The video app the call belongs to.' },
  status: {
    type: 'string',
    enum: [...SCHEDULED_CALL_STATUSES],
    description:
      '`pending_confirmation` until confirmed (when created with requires_confirmation), `scheduled`, `confirmed`; `cancelled` and `no_show` are final.',
  },
  scheduled_at: instant('Start (UTC).'),
  ends_at: instant('End (UTC): scheduled_at plus duration_minutes.'),
  duration_minutes: { type: 'integer', minimum: 1 },
  timezone: { type: 'string', description: 'IANA time zone of the participants.', examples: ['Europe/Paris'] },
  guest: SCHEDULED_CALL_GUEST_SCHEMA,
  agent: { anyOf: [SCHEDULED_CALL_AGENT_SCHEMA, { type: 'null' }], description: 'The assigned agent, or null.' },
  requires_confirmation: { type: 'boolean', description: 'Created as pending_confirmation, waiting for the customer to confirm.' },
  previous_scheduled_at: instantOrNull('scheduled_at before the latest reschedule, or null.'),
  reschedule_count: { type: 'integer', minimum: 0 },
  reschedule_reason: textOrNull('The reason given with the latest reschedule, or null.'),
  confirmed_at: instantOrNull('When the call was confirmed, or null.'),
  cancelled_at: instantOrNull('When the call was cancelled, or null.'),
  cancellation_reason: textOrNull('The reason given with the cancellation, or null.'),
  no_show_at: instantOrNull('When the call was marked a no-show, or null.'),
  guest_joined_at: instantOrNull("The guest's first join, or null."),
  agent_joined_at: instantOrNull("The agent's first join, or null."),
  metadata: { type: 'object', additionalProperties: true, description: 'The free-form JSON object given at creation.' },
  version: {
    type: 'integer',
    minimum: 1,
    description: 'Counts the changes that fired an event (creation is 1; a join fires none). Keep the highest you have seen and drop older events.',
  },
  created_at: instant('When the call was created.'),
  updated_at: instant('When the call last changed.'),
} satisfies Record<keyof ScheduledCallRecord, JsonSchema>;

/**
 * The booking record (SPEC §2), as the API serves it and as every webhook carries it in
 * `payload.scheduled_call`. Defined once: the OpenAPI document uses it for the booking routes'
 * responses and for its `webhooks`, and test/webhook-event-schema.e2e-spec.ts checks that
 * `toScheduledCallRecord` and the worker's envelope produce documents that validate against it.
 * Every field is always present (null when unset). Objects stay open (no
 * `additionalProperties: false`): fields may be added, never removed.
 */
export const SCHEDULED_CALL_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'A scheduled call (booking), as of the moment it was served or the event that carried it.',
  required: Object.keys(SCHEDULED_CALL_PROPERTIES),
  properties: SCHEDULED_CALL_PROPERTIES,
  examples: [SCHEDULED_CALL_EXAMPLE],
};
