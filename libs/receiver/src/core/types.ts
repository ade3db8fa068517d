import type { WEBHOOK_EVENT_TYPES } from './constants.js';

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

import type { ScheduledCall, StatusAfterEvent } from './generated/scheduled-call.js';

// The booking record and the statuses after each event are generated from the platform's OpenAPI
// document (scripts/generate-types.mjs), so they cannot drift from what the platform sends.
export type { ScheduledCall, ScheduledCallAgent, ScheduledCallGuest, ScheduledCallStatus, StatusAfterEvent } from './generated/scheduled-call.js';

/**
 * The timestamps each event is guaranteed to have set (SPEC §2, §3): the receiver checks them
 * after verification, so a handler for `scheduled.cancelled` reads `cancelled_at` as a `string`.
 */
export interface FieldsSetByEvent {
  'scheduled.created': {};
  'scheduled.confirmed': { confirmed_at: string };
  'scheduled.rescheduled': { previous_scheduled_at: string };
  'scheduled.cancelled': { cancelled_at: string };
  'scheduled.no_show': { no_show_at: string };
}

/** `payload.scheduled_call` of an `E` event: status and the event's own timestamp narrowed. */
export type ScheduledCallAfter<E extends WebhookEventType> = ScheduledCall<StatusAfterEvent[E]> & FieldsSetByEvent[E];

export interface WebhookEventOf<E extends WebhookEventType> {
  /** Stable across attempts, manual retries and subscriptions. */
  id: string;
  /**
   * The subscription this delivery belongs to, signed with the body (the idempotency key's prefix).
   * Absent only in deliveries from platform versions that did not sign it yet.
   */
  subscription_id?: string;
  event: E;
  /** When this attempt was sent; inside the signed body, which is what makes replay checks possible. */
  deliveredAt: string;
  attempt: number;
  payload: { scheduled_call: ScheduledCallAfter<E> };
}

/** Discriminated union on `event`. */
export type ApifyCloudWebhookEvent = { [E in WebhookEventType]: WebhookEventOf<E> }[WebhookEventType];

/** Which secret and which header produced the matching signature. */
export interface SignatureMatch {
  /** Index into the `secrets` you configured. */
  secretIndex: number;
  header: 'current' | 'previous';
}

/** Anything headers commonly come as: Node's `req.headers`, a Fetch `Headers`, `[name, value]` pairs or `rawHeaders`. */
export type HeadersInput =
  | { get(name: string): string | null }
  | Record<string, string | readonly string[] | undefined>
  | ReadonlyArray<readonly [string, string]>
  | readonly string[];

export type RawBody = Uint8Array | string;
