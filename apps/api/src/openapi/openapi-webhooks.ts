import type { OperationObject, ParameterObject, PathItemObject, ResponsesObject } from '@nestjs/swagger';
import { BOOKING_EVENT_TYPES, BookingEventType } from '@app/shared/events/booking-events';
import { WEBHOOK_EVENT_DESCRIPTIONS, webhookHeaders } from '@app/shared/events/webhook-event.schema';
import { schemaRef, webhookEventSchemaName } from './openapi-schemas';

export const WEBHOOKS_TAG = 'webhook events';

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds, or an HTTP date: when to try again.', schema: { type: 'string' } } } as const;

/** How the platform reads the receiver's answer (SPEC §3). */
const RESPONSES: ResponsesObject = {
  '2XX': { description: 'Delivered. Answer within the timeout (10 s by default); the first 4 KiB of the body go to the attempt log.' },
  '410': { description: 'Gone: the subscription is paused at once (`paused_reason: gone`) and nothing more is sent until it is resumed.' },
  '429': { description: 'A failed attempt; `Retry-After` delays the next one (bounded).', headers: RETRY_AFTER },
  '503': { description: 'A failed attempt; `Retry-After` delays the next one (bounded).', headers: RETRY_AFTER },
  default: {
    description:
      'Anything else (3xx included: redirects are not followed), a timeout or a connection error is a failed attempt, retried on the schedule ' +
      '(immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h by default) before the delivery is `failed`.',
  },
};

function operation(event: BookingEventType): OperationObject {
  const parameters: ParameterObject[] = webhookHeaders(event).map((header) => ({
    name: header.name,
    in: 'header',
    required: header.required,
    description: header.description,
    schema: header.schema,
  }));
  return {
    operationId: `${event.replace(/[._](\w)/g, (_, letter: string) => letter.toUpperCase())}Webhook`,
    summary: `${event} webhook`,
    description: `${WEBHOOK_EVENT_DESCRIPTIONS[event]} POSTed to each subscription whose \`events\` include it (or \`*\`). Verify the signature over the raw body before parsing it.`,
    tags: [WEBHOOKS_TAG],
    // Deliveries are authenticated by their HMAC signature (X-ApifyCloud-Signature), not a bearer token.
    security: [],
    parameters,
    requestBody: { required: true, content: { 'application/json': { schema: schemaRef(webhookEventSchemaName(event)) } } },
    responses: RESPONSES,
  };
}

/** The document's top-level `webhooks`: one POST per event type, named by the event. */
export function webhooksObject(): Record<string, PathItemObject> {
  return Object.fromEntries(BOOKING_EVENT_TYPES.map((event) => [event, { post: operation(event) }]));
}
