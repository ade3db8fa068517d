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
  'scheduled.created': Record<never, never>;
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
  /**
   * `true` on a test send (the platform's "send test event"), whose record is an example, not a
   * real booking; absent on every other delivery.
   */
  test?: true;
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

/**
 * A verified delivery as every verifier hands it over: the Node core's `VerifiedWebhook` is one (with
 * `rawBody` as a `Buffer`), and so is what the WebCrypto verifier resolves with. Everything in it
 * comes from the signed body or was checked against it. `/web` handlers receive this type on every
 * runtime.
 */
export interface WebVerifiedWebhook<E extends ApifyCloudWebhookEvent = ApifyCloudWebhookEvent> {
  /** The decoded, shape-checked event. */
  readonly event: E;
  /** The exact bytes that were verified. */
  readonly rawBody: Uint8Array;
  readonly eventId: string;
  readonly eventType: E['event'];
  /** The signed `deliveredAt`, in epoch milliseconds. */
  readonly deliveredAtMs: number;
  /** The signed `deliveredAt`. */
  readonly deliveredAt: Date;
  readonly attempt: number;
  /** The signed body's `subscription_id`, or for older deliveries the subscription part of `X-ApifyCloud-Delivery`. */
  readonly subscriptionId: string;
  /** `body` when the subscription id (and so the idempotency key) is signed, `header` for older deliveries. */
  readonly subscriptionIdSource: 'body' | 'header';
  /** `<subscriptionId>:<eventId>`, the same for every attempt of one event to one subscription. */
  readonly idempotencyKey: string;
  /** Which secret and which header matched. */
  readonly signature: SignatureMatch;
  /** A summary for logs (the raw body is left out). */
  toJSON(): Record<string, unknown>;
}

/** Anything headers commonly come as: Node's `req.headers`, a Fetch `Headers`, `[name, value]` pairs or `rawHeaders`. */
export type HeadersInput =
  { get(name: string): string | null } | Record<string, string | readonly string[] | undefined> | ReadonlyArray<readonly [string, string]> | readonly string[];

export type RawBody = Uint8Array | string;
