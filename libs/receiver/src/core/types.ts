import type { WEBHOOK_EVENT_TYPES } from './constants.js';

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export type ScheduledCallStatus = 'pending_confirmation' | 'scheduled' | 'confirmed' | 'cancelled' | 'no_show';

export interface ScheduledCallGuest {
  name: string;
  email: string;
  phone?: string | null;
}

export interface ScheduledCallAgent {
  id: string;
  name?: string | null;
  email?: string | null;
}

/** The booking record as carried in `payload.scheduled_call` (SPEC §2). Timestamps are ISO-8601 UTC strings. */
export interface ScheduledCall<S extends ScheduledCallStatus = ScheduledCallStatus> {
  id: string;
  app_id: string;
  status: S;
  scheduled_at: string;
  ends_at: string;
  duration_minutes: number;
  timezone: string;
  guest: ScheduledCallGuest;
  agent: ScheduledCallAgent | null;
  requires_confirmation: boolean;
  previous_scheduled_at: string | null;
  reschedule_count: number;
  confirmed_at: string | null;
  cancelled_at: string | null;
  cancellation_reason: string | null;
  no_show_at: string | null;
  guest_joined_at: string | null;
  agent_joined_at: string | null;
  metadata: Record<string, unknown>;
  /** +1 on every state change: keep the highest version you have seen and drop older events. */
  version: number;
  created_at: string;
  updated_at: string;
}

/** The status each event leaves the booking in, so narrowing on `event` narrows `status` too. */
export interface StatusAfterEvent {
  'scheduled.created': 'scheduled' | 'pending_confirmation';
  'scheduled.confirmed': 'confirmed';
  'scheduled.rescheduled': 'pending_confirmation' | 'scheduled' | 'confirmed';
  'scheduled.cancelled': 'cancelled';
  'scheduled.no_show': 'no_show';
}

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
  payload: { scheduled_call: ScheduledCall<StatusAfterEvent[E]> };
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
