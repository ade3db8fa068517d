import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { ApifyCloudWebhookEvent, ScheduledCall, ScheduledCallStatus, StatusAfterEvent, WebhookEventOf, WebhookEventType } from '../core/types.js';

/** A secret shaped like the platform's: `whsec_` and 32 random bytes in base64url. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** `sha256=<hex>` of the exact bytes, keyed with the UTF-8 bytes of the whole secret string, as the platform signs. */
export function signBody(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

const STATUS_AFTER: { [E in WebhookEventType]: StatusAfterEvent[E] } = {
  'scheduled.created': 'scheduled',
  'scheduled.confirmed': 'confirmed',
  'scheduled.rescheduled': 'scheduled',
  'scheduled.cancelled': 'cancelled',
  'scheduled.no_show': 'no_show',
};

/** The timestamp each event sets, so a signed sample carries what the receiver checks. */
const EVENT_TIME = new Date(Date.UTC(2030, 0, 1, 12, 0, 0)).toISOString();
const SET_BY_EVENT: { [E in WebhookEventType]: Partial<ScheduledCall> } = {
  'scheduled.created': {},
  'scheduled.confirmed': { confirmed_at: EVENT_TIME },
  'scheduled.rescheduled': { previous_scheduled_at: new Date(Date.UTC(2030, 0, 14, 14, 0, 0)).toISOString(), reschedule_count: 1 },
  'scheduled.cancelled': { cancelled_at: EVENT_TIME },
  'scheduled.no_show': { no_show_at: EVENT_TIME },
};

/** A complete booking record (SPEC §2) for tests; `overrides` replace fields. */
export function sampleScheduledCall<S extends ScheduledCallStatus = ScheduledCallStatus>(overrides: Partial<ScheduledCall<S>> = {}): ScheduledCall<S> {
  const scheduledAt = new Date(Date.UTC(2030, 0, 15, 14, 0, 0));
  return {
    id: randomUUID(),
    app_id: randomUUID(),
    status: 'scheduled' as S,
    scheduled_at: scheduledAt.toISOString(),
    ends_at: new Date(scheduledAt.getTime() + 30 * 60_000).toISOString(),
    duration_minutes: 30,
    timezone: 'Europe/Prague',
    guest: { name: 'Ada Lovelace', email: 'ada@example.com', phone: '+420123456789' },
    agent: { id: randomUUID(), name: 'Grace Hopper', email: 'grace@example.com' },
    requires_confirmation: false,
    previous_scheduled_at: null,
    reschedule_count: 0,
    reschedule_reason: null,
    confirmed_at: null,
    cancelled_at: null,
    cancellation_reason: null,
    no_show_at: null,
    guest_joined_at: null,
    agent_joined_at: null,
    metadata: {},
    version: 1,
    created_at: new Date(Date.UTC(2030, 0, 1)).toISOString(),
    updated_at: new Date(Date.UTC(2030, 0, 1)).toISOString(),
    ...overrides,
  };
}

export interface SignWebhookOptions<E extends WebhookEventType = 'scheduled.created'> {
  secret: string;
  /** Also send `X-ApifyCloud-Signature-Previous` signed with this secret, as during a rotation's grace period. */
  previousSecret?: string;
  event?: E;
  /** Fields of `payload.scheduled_call`; the status defaults to the one the event leaves. */
  scheduledCall?: Partial<ScheduledCall<StatusAfterEvent[E]>>;
  /** Event id, stable across attempts. Default: a new UUID. */
  id?: string;
  /** Default: now. */
  deliveredAt?: Date | string;
  attempt?: number;
  subscriptionId?: string;
  /** Leave `subscription_id` out of the signed body, as platform versions before it was signed did. */
  omitSubscriptionId?: boolean;
}

export interface SignedWebhook<E extends WebhookEventType = WebhookEventType> {
  /** The exact JSON text that was signed: send it as-is (`supertest.send(body)`). */
  body: string;
  /** Same as `body`, named for `fastify.inject({ payload })`. */
  payload: string;
  rawBody: Buffer;
  /** Every header the platform sends, in its casing. */
  headers: Record<string, string>;
  event: WebhookEventOf<E>;
  idempotencyKey: string;
}

/**
 * Builds and signs a delivery exactly as the platform's worker does: the body serialised once,
 * the HMAC over those bytes, the delivery headers consistent with it.
 *
 *   const d = signWebhook({ secret, event: 'scheduled.cancelled' });
 *   await request(app).post('/webhooks').set(d.headers).send(d.body).expect(200);
 *   await fastify.inject({ method: 'POST', url: '/webhooks', headers: d.headers, payload: d.payload });
 */
export function signWebhook<E extends WebhookEventType = 'scheduled.created'>(options: SignWebhookOptions<E>): SignedWebhook<E> {
  const type = (options.event ?? 'scheduled.created') as E;
  const deliveredAt =
    options.deliveredAt === undefined
      ? new Date().toISOString()
      : typeof options.deliveredAt === 'string'
        ? options.deliveredAt
        : options.deliveredAt.toISOString();
  const attempt = options.attempt ?? 1;
  const subscriptionId = options.subscriptionId ?? randomUUID();
  const id = options.id ?? randomUUID();
  const scheduledCall = sampleScheduledCall<StatusAfterEvent[E]>({ status: STATUS_AFTER[type], ...SET_BY_EVENT[type], ...options.scheduledCall });
  // Key order is the platform's (apps/worker webhook-sender buildRequest): id, subscription_id, event, deliveredAt, attempt, payload.
  const event = (
    options.omitSubscriptionId
      ? { id, event: type, deliveredAt, attempt, payload: { scheduled_call: scheduledCall } }
      : { id, subscription_id: subscriptionId, event: type, deliveredAt, attempt, payload: { scheduled_call: scheduledCall } }
  ) as WebhookEventOf<E>;
  const body = JSON.stringify(event);
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': 'ApifyCloud-Webhooks/test',
    'X-ApifyCloud-Signature': signBody(body, options.secret),
    'X-ApifyCloud-Event': type,
    'X-ApifyCloud-Delivery': `${subscriptionId}:${attempt}`,
    'X-ApifyCloud-Timestamp': deliveredAt,
    'X-ApifyCloud-Event-Id': id,
  };
  if (options.previousSecret !== undefined) headers['X-ApifyCloud-Signature-Previous'] = signBody(body, options.previousSecret);
  return { body, payload: body, rawBody: Buffer.from(body, 'utf8'), headers, event, idempotencyKey: `${subscriptionId}:${id}` };
}

export type { ApifyCloudWebhookEvent };
