import type { SchemaObject } from '@nestjs/swagger';
import { SCHEDULED_CALL_SCHEMA } from '@app/shared/bookings/scheduled-call.schema';
import type { JsonSchema } from '@app/shared/bookings/scheduled-call.schema';
import { BOOKING_EVENT_TYPES, BookingEventType } from '@app/shared/events/booking-events';
import { webhookEventSchema } from '@app/shared/events/webhook-event.schema';

/**
 * Schemas of the document that do not come from DTO classes: the booking record and the webhook
 * bodies (defined once in libs/shared) and the problem details every error answers with.
 */

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** A reference to a schema in `components.schemas` (a type alias, so it also passes as a JsonSchema). */
export function schemaRef(name: string): { $ref: string } {
  return { $ref: `#/components/schemas/${name}` };
}

/** `scheduled.no_show` -> `ScheduledNoShowEvent`. */
export function webhookEventSchemaName(event: BookingEventType): string {
  return `${event
    .split(/[._]/)
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join('')}Event`;
}

/** What apps/api/src/common/problem-details.filter.ts renders (RFC 9457 plus `code` and `message`). */
export const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details, with a stable machine-readable `code` and a human `message`.',
  required: ['type', 'title', 'status', 'code', 'message', 'detail', 'request_id'],
  properties: {
    type: { type: 'string', description: 'Always `about:blank`: `status` and `code` say what happened.', examples: ['about:blank'] },
    title: { type: 'string', description: 'The HTTP status phrase.', examples: ['Unprocessable Content'] },
    status: { type: 'integer', minimum: 400, maximum: 599, description: 'The HTTP status code.' },
    code: {
      type: 'string',
      description: 'Stable machine-readable code, e.g. `validation_failed`, `not_found`, `invalid_transition`.',
      examples: ['validation_failed'],
    },
    message: { type: 'string', description: 'What went wrong, for a human.' },
    detail: { type: 'string', description: 'The same as `message` (the RFC 9457 member).' },
    errors: {
      type: 'array',
      description: 'Validation errors only: each field at fault.',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: {
          field: { type: 'string', description: 'Dotted path of the field, e.g. `guest.email`.' },
          message: { type: 'string' },
        },
      },
    },
    request_id: {
      type: 'string',
      description:
        "The id of the request (also the `X-Request-Id` response header): the caller's own `X-Request-Id` when it is 1–128 letters, digits or `._:-`, else a UUID. Quote it when asking about this answer; it finds the request's log lines.",
      examples: ['5f0c6a56-8f0e-4b8e-9a57-0d3b2f1c7e21'],
    },
  },
};

/** The schemas added to `components.schemas` beside the DTO classes Nest finds. */
export function sharedSchemas(): Record<string, SchemaObject> {
  const schemas: Record<string, JsonSchema> = { Problem: PROBLEM_SCHEMA, ScheduledCall: SCHEDULED_CALL_SCHEMA };
  for (const event of BOOKING_EVENT_TYPES) {
    schemas[webhookEventSchemaName(event)] = webhookEventSchema(event, schemaRef('ScheduledCall'));
  }
  // JSON Schema 2020-12 objects: structurally what @nestjs/swagger's SchemaObject describes for OpenAPI 3.1.
  return schemas;
}
