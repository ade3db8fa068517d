import { timingSafeEqual } from 'node:crypto';
import { WEBHOOK_EVENT_TYPES, WebhookHeaders } from './constants.js';
import { scanEnvelope, type EnvelopeFields } from './envelope.js';
import { WebhookError } from './errors.js';
import { assertDecodedEnvelope } from './payload.js';
import { checkDeliveryHeaders, parseSignature } from './delivery-headers.js';
import { headerShape, readSingleHeader } from './headers.js';
import { HmacSha256 } from './hmac.js';
import type { ApifyCloudWebhookEvent, HeadersInput, RawBody, SignatureMatch, WebVerifiedWebhook, WebhookEventType } from './types.js';
import { checkFreshness, resolveVerifyOptions, type ResolvedVerifyOptions, type VerifyOptions } from './verify-options.js';

export type { VerifyOptions, ResolvedVerifyOptions } from './verify-options.js';
export { resolveVerifyOptions } from './verify-options.js';

const KNOWN_EVENTS: ReadonlySet<string> = new Set(WEBHOOK_EVENT_TYPES);

export function isKnownEventType(value: string): value is WebhookEventType {
  return KNOWN_EVENTS.has(value);
}

/** The result of a successful verification. Everything in it comes from the signed body or was checked against it. */
export class VerifiedWebhook<E extends ApifyCloudWebhookEvent = ApifyCloudWebhookEvent> implements WebVerifiedWebhook<E> {
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
      eventId: this.eventId,
      eventType: this.eventType,
      deliveredAt: this.deliveredAt.toISOString(),
      attempt: this.attempt,
      subscriptionId: this.subscriptionId,
      subscriptionIdSource: this.subscriptionIdSource,
      idempotencyKey: this.idempotencyKey,
      signature: this.signature,
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
  assertDecodedEnvelope(parsed, webhook);
  return parsed;
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
    return new VerifiedWebhook(
      body,
      fields.id,
      fields.event,
      fields.deliveredAtMs,
      fields.attempt,
      subscription.subscriptionId,
      signature,
      subscription.fromBody ? 'body' : 'header',
    );
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
    checkFreshness(this.options, deliveredAt);
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
