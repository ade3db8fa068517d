import { timingSafeEqual } from 'node:crypto';
import { Defaults, WEBHOOK_EVENT_TYPES, WebhookHeaders } from './constants.js';
import { scanEnvelope, type EnvelopeFields } from './envelope.js';
import { WebhookError } from './errors.js';
import { assertScheduledCall } from './payload.js';
import { checkDeliveryHeaders, parseSignature } from './delivery-headers.js';
import { headerShape, readSingleHeader, type HeaderShape } from './headers.js';
import { HmacSha256 } from './hmac.js';
import type { ApifyCloudWebhookEvent, HeadersInput, RawBody, SignatureMatch, WebhookEventType } from './types.js';

export interface VerifyOptions {
  /**
   * The subscription secret, or several: during a rotation configure the new one and the old one.
   * Each is used as an opaque string (its UTF-8 bytes, `whsec_` prefix included, are the HMAC key).
   */
  secret?: string | readonly string[];
  /** Same as `secret`, for readability when passing a list. */
  secrets?: readonly string[];
  /** How far in the past the signed `deliveredAt` may lie. Default 5 minutes. */
  toleranceMs?: number;
  /** How far in the future the signed `deliveredAt` may lie (clock skew). Default 60 s. */
  futureToleranceMs?: number;
  /** Clock, injectable for tests. Default `Date.now`. */
  now?: () => number | Date;
  /** Largest body accepted. Default 1 MiB. */
  maxBodyBytes?: number;
}

export interface ResolvedVerifyOptions {
  secrets: readonly string[];
  toleranceMs: number;
  futureToleranceMs: number;
  now: () => number;
  maxBodyBytes: number;
}

const KNOWN_EVENTS: ReadonlySet<string> = new Set(WEBHOOK_EVENT_TYPES);

export function isKnownEventType(value: string): value is WebhookEventType {
  return KNOWN_EVENTS.has(value);
}

/** The result of a successful verification. Everything in it comes from the signed body or was checked against it. */
export class VerifiedWebhook<E extends ApifyCloudWebhookEvent = ApifyCloudWebhookEvent> {
  #event: E | undefined;

  /** @internal constructed by the verifier only */
  constructor(
    /** The exact bytes that were verified. */
    readonly rawBody: Buffer,
    readonly eventId: string,
    readonly eventType: E['event'],
    /** The signed `deliveredAt`, in epoch milliseconds. */
    readonly deliveredAtMs: number,
    readonly attempt: number,
    /**
     * The signed body's `subscription_id`; for deliveries from a platform version that did not sign it
     * yet, the part of `X-ApifyCloud-Delivery` before the last `:` (see `subscriptionIdSource`).
     */
    readonly subscriptionId: string,
    readonly signature: SignatureMatch,
    /** `body` when the subscription id (and so the idempotency key) is signed, `header` for older deliveries. */
    readonly subscriptionIdSource: 'body' | 'header' = 'body',
  ) {}

  /**
   * `<subscriptionId>:<eventId>` from the signed body: the same for every attempt of one event to one
   * subscription, and not changeable by whoever replays captured bytes with other headers.
   */
  get idempotencyKey(): string {
    return `${this.subscriptionId}:${this.eventId}`;
  }

  /** The signed `deliveredAt`. */
  get deliveredAt(): Date {
    return new Date(this.deliveredAtMs);
  }

  /**
   * The typed event, decoded from `rawBody` on first access and then cached. Decoding is deferred so
   * receivers that only enqueue the raw bytes never pay for it. Throws `WebhookError`
   * (`invalid_json` / `invalid_payload`) if the signed body is not a well-formed envelope;
   * the framework adapters read it before running your handler, so handlers never see that.
   */
  get event(): E {
    if (this.#event === undefined) this.#event = decodeEvent(this) as E;
    return this.#event;
  }

  /** Serialises as its summary (the raw body is left out of logs). */
  toJSON(): Record<string, unknown> {
    return {
      eventId: this.eventId, eventType: this.eventType, deliveredAt: this.deliveredAt.toISOString(), attempt: this.attempt,
      subscriptionId: this.subscriptionId, subscriptionIdSource: this.subscriptionIdSource, idempotencyKey: this.idempotencyKey, signature: this.signature,
    };
  }
}

function decodeEvent(webhook: VerifiedWebhook): ApifyCloudWebhookEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(webhook.rawBody.toString('utf8'));
  } catch (cause) {
    throw new WebhookError('invalid_json', 'The signed body is not valid JSON.', { cause });
  }
  const body = parsed as Partial<ApifyCloudWebhookEvent> | null;
  const payload = body?.payload as { scheduled_call?: unknown } | undefined;
  if (
    typeof body !== 'object' || body === null || Array.isArray(body) ||
    typeof payload !== 'object' || payload === null ||
    typeof payload.scheduled_call !== 'object' || payload.scheduled_call === null
  ) {
    throw new WebhookError('invalid_payload', 'The signed body has no payload.scheduled_call object.');
  }
  if (
    body.id !== webhook.eventId || body.event !== webhook.eventType ||
    body.attempt !== webhook.attempt || typeof body.deliveredAt !== 'string' ||
    Date.parse(body.deliveredAt) !== webhook.deliveredAtMs ||
    (webhook.subscriptionIdSource === 'body' ? body.subscription_id !== webhook.subscriptionId : body.subscription_id !== undefined)
  ) {
    throw new WebhookError('invalid_payload', 'The signed body repeats a top-level field with different values.');
  }
  assertScheduledCall(webhook.eventType, payload.scheduled_call);
  return body as ApifyCloudWebhookEvent;
}

export function resolveVerifyOptions(options: VerifyOptions): ResolvedVerifyOptions {
  if (options == null || typeof options !== 'object') throw new TypeError('@apifycloud/webhook-receiver: options with a `secret` are required.');
  const raw = options.secrets ?? options.secret;
  const secrets = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? [...(raw as readonly unknown[])] : [];
  if (secrets.length === 0) {
    throw new TypeError('@apifycloud/webhook-receiver: no webhook secret configured. Pass `secret` (is the environment variable that holds it set?).');
  }
  secrets.forEach((secret, index) => {
    if (typeof secret !== 'string' || secret.length === 0) {
      throw new TypeError(`@apifycloud/webhook-receiver: secret #${index} is empty or not a string (is the environment variable that holds it set?).`);
    }
    // A trailing newline from a secrets file is the classic cause of "every signature is invalid".
    if (secret.trim() !== secret) {
      throw new TypeError(`@apifycloud/webhook-receiver: secret #${index} has leading or trailing whitespace; ApifyCloud secrets never do.`);
    }
  });
  const now = options.now;
  return {
    secrets: secrets as string[],
    toleranceMs: nonNegative(options.toleranceMs, Defaults.toleranceMs, 'toleranceMs'),
    futureToleranceMs: nonNegative(options.futureToleranceMs, Defaults.futureToleranceMs, 'futureToleranceMs'),
    maxBodyBytes: nonNegative(options.maxBodyBytes, Defaults.maxBodyBytes, 'maxBodyBytes'),
    now: now ? () => { const t = now(); return typeof t === 'number' ? t : t.getTime(); } : Date.now,
  };
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0)) throw new TypeError(`@apifycloud/webhook-receiver: ${name} must be a non-negative number.`);
  return value;
}

export function toBuffer(body: RawBody): Buffer {
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new WebhookError('raw_body_unavailable', 'The body passed for verification is not a Buffer, Uint8Array or string.', {
    hint: 'Pass the exact bytes received (a Buffer). A parsed object cannot be verified: re-serialising it changes the bytes.',
  });
}

/**
 * A reusable verifier: options are validated and the secrets turned into keys once.
 * `verify` is synchronous and throws `WebhookError`.
 */
export class WebhookVerifier {
  readonly options: ResolvedVerifyOptions;
  readonly #keys: HmacSha256[];
  // One SignatureMatch per secret and header, built once, so a verification allocates none.
  readonly #matches: ReadonlyArray<{ current: SignatureMatch; previous: SignatureMatch }>;
  readonly #digest = Buffer.alloc(32);
  readonly #current = Buffer.alloc(32);
  readonly #previous = Buffer.alloc(32);

  constructor(options: VerifyOptions) {
    this.options = resolveVerifyOptions(options);
    this.#keys = this.options.secrets.map((secret) => new HmacSha256(Buffer.from(secret, 'utf8')));
    this.#matches = this.#keys.map((_, secretIndex) => ({
      current: Object.freeze({ secretIndex, header: 'current' as const }),
      previous: Object.freeze({ secretIndex, header: 'previous' as const }),
    }));
  }

  verify(rawBody: RawBody, headers: HeadersInput): VerifiedWebhook {
    const body = toBuffer(rawBody);
    if (body.length > this.options.maxBodyBytes) {
      throw new WebhookError('payload_too_large', `The body has ${body.length} bytes; the limit is ${this.options.maxBodyBytes}.`);
    }
    const shape = headerShape(headers, WebhookHeaders.Signature);
    // Scratch buffers are safe to reuse: verification is synchronous from here to the compare.
    const current = this.#current;
    const previous = this.#previous;
    const hasPrevious = parseSignature(readSingleHeader(headers, WebhookHeaders.SignaturePrevious, shape), 'X-ApifyCloud-Signature-Previous', previous);
    if (!parseSignature(readSingleHeader(headers, WebhookHeaders.Signature, shape), 'X-ApifyCloud-Signature', current)) {
      throw new WebhookError('missing_signature', 'X-ApifyCloud-Signature header is missing.');
    }
    const signature = this.#match(body, current, hasPrevious ? previous : undefined);
    const fields = this.#readEnvelope(body);
    this.#checkFreshness(fields.deliveredAtMs);
    if (!isKnownEventType(fields.event)) {
      throw new WebhookError('unknown_event', `Unknown event type "${fields.event}".`);
    }
    const subscription = checkDeliveryHeaders(headers, shape, fields);
    return new VerifiedWebhook(body, fields.id, fields.event, fields.deliveredAtMs, fields.attempt, subscription.subscriptionId, signature, subscription.fromBody ? 'body' : 'header');
  }

  #match(body: Buffer, current: Buffer, previous: Buffer | undefined): SignatureMatch {
    const keys = this.#keys;
    const digest = this.#digest;
    for (let i = 0; i < keys.length; i++) {
      // Into a scratch buffer: timingSafeEqual only needs the bytes, and a fresh Buffer per digest is costly.
      keys[i]!.digestInto(body, digest);
      if (timingSafeEqual(digest, current)) return this.#matches[i]!.current;
      if (previous !== undefined && timingSafeEqual(digest, previous)) return this.#matches[i]!.previous;
    }
    throw new WebhookError('invalid_signature', 'No configured secret produces the signature of this body.');
  }

  #readEnvelope(body: Buffer): EnvelopeFields {
    const fields = scanEnvelope(body);
    if (typeof fields.id !== 'string' || fields.id.length === 0) throw new WebhookError('invalid_payload', 'The signed body has no "id".');
    if (typeof fields.event !== 'string') throw new WebhookError('invalid_payload', 'The signed body has no "event".');
    if (fields.deliveredAtMs === undefined) throw new WebhookError('invalid_payload', 'The signed body has no "deliveredAt".');
    if (Number.isNaN(fields.deliveredAtMs)) throw new WebhookError('invalid_payload', '"deliveredAt" is not an ISO-8601 timestamp.');
    if (typeof fields.attempt !== 'number' || !Number.isSafeInteger(fields.attempt) || fields.attempt < 1) {
      throw new WebhookError('invalid_payload', 'The signed body has no positive integer "attempt".');
    }
    return fields as EnvelopeFields;
  }

  #checkFreshness(deliveredAt: number): void {
    const now = this.options.now();
    if (now - deliveredAt > this.options.toleranceMs) {
      throw new WebhookError('stale_delivery', `Delivered ${Math.round((now - deliveredAt) / 1000)} s ago; the replay window is ${Math.round(this.options.toleranceMs / 1000)} s.`);
    }
    if (deliveredAt - now > this.options.futureToleranceMs) {
      throw new WebhookError('future_delivery', `deliveredAt is ${Math.round((deliveredAt - now) / 1000)} s ahead of this receiver's clock.`);
    }
  }
}


export function createWebhookVerifier(options: VerifyOptions): WebhookVerifier {
  return new WebhookVerifier(options);
}

const verifierCache = new WeakMap<VerifyOptions, WebhookVerifier>();

/**
 * One-shot verification of the raw body and headers. Throws `WebhookError`.
 * Reusing the same options object reuses the prepared keys.
 */
export function verifyWebhook(rawBody: RawBody, headers: HeadersInput, options: VerifyOptions): VerifiedWebhook {
  let verifier = verifierCache.get(options);
  if (verifier === undefined) {
    verifier = new WebhookVerifier(options);
    verifierCache.set(options, verifier);
  }
  return verifier.verify(rawBody, headers);
}
