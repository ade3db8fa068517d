/**
 * Signature verification on WebCrypto only (`crypto.subtle` HMAC-SHA256, TextEncoder/TextDecoder):
 * no `node:` import and no `Buffer` anywhere in this module's graph, so it runs unchanged on
 * Cloudflare Workers (workerd, without `nodejs_compat`), Vercel Edge, Deno, Bun and browsers.
 * Same checks, order and error codes as the synchronous core verifier (`verifyWebhook`).
 * Keep this file's imports to ../core/{constants,errors,headers} and type-only ../core/types.
 */
import { Defaults, WEBHOOK_EVENT_TYPES, WebhookHeaders } from '../core/constants.js';
import { WebhookError } from '../core/errors.js';
import { checkDeliveryHeaders, parseSignature } from '../core/delivery-headers.js';
import { headerShape, readSingleHeader, type HeaderShape } from '../core/headers.js';
import type { ApifyCloudWebhookEvent, HeadersInput, SignatureMatch, WebhookEventType } from '../core/types.js';

export interface WebCryptoVerifyOptions {
  /** The subscription secret, or several during a rotation (its UTF-8 bytes, `whsec_` prefix included, are the HMAC key). */
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

/** What `WebCryptoWebhookVerifier.verify` resolves with: the decoded event and what was checked about it. */
export interface WebVerifiedWebhook<E extends ApifyCloudWebhookEvent = ApifyCloudWebhookEvent> {
  event: E;
  /** The exact bytes that were verified. */
  rawBody: Uint8Array;
  eventId: string;
  eventType: E['event'];
  /** The signed `deliveredAt`, in epoch milliseconds. */
  deliveredAtMs: number;
  attempt: number;
  subscriptionId: string;
  subscriptionIdSource: 'body' | 'header';
  /** `<subscriptionId>:<eventId>`, the same for every attempt of one event to one subscription. */
  idempotencyKey: string;
  signature: SignatureMatch;
}

export type WebRawBody = Uint8Array | ArrayBuffer | string;

const KNOWN_EVENTS: ReadonlySet<string> = new Set(WEBHOOK_EVENT_TYPES);
const HMAC = { name: 'HMAC', hash: 'SHA-256' } as const;

const encoder = new TextEncoder();
// Not fatal (invalid UTF-8 becomes U+FFFD, as Buffer#toString does in the core); the BOM is kept so JSON.parse refuses it, as the core does.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

function subtle(): SubtleCrypto {
  const value = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (value === undefined) throw new TypeError('@apifycloud/webhook-receiver: crypto.subtle (WebCrypto) is not available in this runtime.');
  return value;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0)) throw new TypeError(`@apifycloud/webhook-receiver: ${name} must be a non-negative number.`);
  return value;
}

function resolveSecrets(options: WebCryptoVerifyOptions): string[] {
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
    if (secret.trim() !== secret) {
      throw new TypeError(`@apifycloud/webhook-receiver: secret #${index} has leading or trailing whitespace; ApifyCloud secrets never do.`);
    }
  });
  return secrets as string[];
}

/** The signature header as 32 bytes for crypto.subtle.verify; undefined when absent. */
function signatureBytes(value: string | undefined | null, headerName: string): Uint8Array<ArrayBuffer> | undefined {
  const bytes = new Uint8Array(new ArrayBuffer(32));
  return parseSignature(value, headerName, bytes) ? bytes : undefined;
}

function toBytes(body: WebRawBody): Uint8Array {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return encoder.encode(body);
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new WebhookError('raw_body_unavailable', 'The body passed for verification is not a Uint8Array, ArrayBuffer or string.', {
    hint: 'Pass the exact bytes received (await request.arrayBuffer()). A parsed object cannot be verified: re-serialising it changes the bytes.',
  });
}


interface Envelope {
  body: Record<string, unknown>;
  id: string;
  event: string;
  deliveredAtMs: number;
  attempt: number;
  subscriptionId: string | undefined;
}

function readEnvelope(bytes: Uint8Array): Envelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch (cause) {
    throw new WebhookError('invalid_json', 'The signed body is not valid JSON.', { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new WebhookError('invalid_json', 'The signed body is not a JSON object.');
  const body = parsed as Record<string, unknown>;
  const { id, event, deliveredAt, attempt, subscription_id: subscriptionId } = body;
  if (typeof id !== 'string' || id.length === 0) throw new WebhookError('invalid_payload', 'The signed body has no "id".');
  if (typeof event !== 'string') throw new WebhookError('invalid_payload', 'The signed body has no "event".');
  if (typeof deliveredAt !== 'string') throw new WebhookError('invalid_payload', 'The signed body has no "deliveredAt".');
  const deliveredAtMs = Date.parse(deliveredAt);
  if (Number.isNaN(deliveredAtMs)) throw new WebhookError('invalid_payload', '"deliveredAt" is not an ISO-8601 timestamp.');
  if (typeof attempt !== 'number' || !Number.isSafeInteger(attempt) || attempt < 1) {
    throw new WebhookError('invalid_payload', 'The signed body has no positive integer "attempt".');
  }
  if (subscriptionId !== undefined && typeof subscriptionId !== 'string') throw new WebhookError('invalid_payload', '"subscription_id" is not a string.');
  return { body, id, event, deliveredAtMs, attempt, subscriptionId };
}

/**
 * A reusable WebCrypto verifier: options are validated and every secret imported as a non-extractable
 * HMAC key once. `verify` resolves with the decoded event or rejects with a `WebhookError`.
 */
export class WebCryptoWebhookVerifier {
  readonly secrets: readonly string[];
  readonly toleranceMs: number;
  readonly futureToleranceMs: number;
  readonly maxBodyBytes: number;
  readonly #now: () => number;
  readonly #keys: Promise<CryptoKey[]>;
  readonly #matches: ReadonlyArray<{ current: SignatureMatch; previous: SignatureMatch }>;

  constructor(options: WebCryptoVerifyOptions) {
    this.secrets = resolveSecrets(options);
    this.toleranceMs = nonNegative(options.toleranceMs, Defaults.toleranceMs, 'toleranceMs');
    this.futureToleranceMs = nonNegative(options.futureToleranceMs, Defaults.futureToleranceMs, 'futureToleranceMs');
    this.maxBodyBytes = nonNegative(options.maxBodyBytes, Defaults.maxBodyBytes, 'maxBodyBytes');
    const now = options.now;
    this.#now = now ? () => { const t = now(); return typeof t === 'number' ? t : t.getTime(); } : Date.now;
    const crypto = subtle();
    this.#keys = Promise.all(this.secrets.map((secret) => crypto.importKey('raw', encoder.encode(secret), HMAC, false, ['verify'])));
    // Surfaced by the first verify(); not an unhandled rejection in the meantime.
    this.#keys.catch(() => undefined);
    this.#matches = this.secrets.map((_, secretIndex) => ({
      current: Object.freeze({ secretIndex, header: 'current' as const }),
      previous: Object.freeze({ secretIndex, header: 'previous' as const }),
    }));
  }

  async verify<E extends ApifyCloudWebhookEvent = ApifyCloudWebhookEvent>(rawBody: WebRawBody, headers: HeadersInput): Promise<WebVerifiedWebhook<E>> {
    const bytes = toBytes(rawBody);
    if (bytes.byteLength > this.maxBodyBytes) {
      throw new WebhookError('payload_too_large', `The body has ${bytes.byteLength} bytes; the limit is ${this.maxBodyBytes}.`);
    }
    const shape = headerShape(headers, WebhookHeaders.Signature);
    const previous = signatureBytes(readSingleHeader(headers, WebhookHeaders.SignaturePrevious, shape), 'X-ApifyCloud-Signature-Previous');
    const current = signatureBytes(readSingleHeader(headers, WebhookHeaders.Signature, shape), 'X-ApifyCloud-Signature');
    if (current === undefined) throw new WebhookError('missing_signature', 'X-ApifyCloud-Signature header is missing.');
    const signature = await this.#match(bytes, current, previous);
    const envelope = readEnvelope(bytes);
    this.#checkFreshness(envelope.deliveredAtMs);
    if (!KNOWN_EVENTS.has(envelope.event)) throw new WebhookError('unknown_event', `Unknown event type "${envelope.event}".`);
    const subscription = checkDeliveryHeaders(headers, shape, envelope);
    const payload = envelope.body.payload as { scheduled_call?: unknown } | null | undefined;
    if (typeof payload !== 'object' || payload === null || typeof payload.scheduled_call !== 'object' || payload.scheduled_call === null) {
      throw new WebhookError('invalid_payload', 'The signed body has no payload.scheduled_call object.');
    }
    if (!subscription.fromBody && envelope.subscriptionId !== undefined) {
      throw new WebhookError('invalid_payload', 'The signed body repeats a top-level field with different values.');
    }
    return {
      event: envelope.body as unknown as E,
      rawBody: bytes,
      eventId: envelope.id,
      eventType: envelope.event as WebhookEventType as E['event'],
      deliveredAtMs: envelope.deliveredAtMs,
      attempt: envelope.attempt,
      subscriptionId: subscription.subscriptionId,
      subscriptionIdSource: subscription.fromBody ? 'body' : 'header',
      idempotencyKey: `${subscription.subscriptionId}:${envelope.id}`,
      signature,
    };
  }

  /** crypto.subtle.verify compares in constant time; every secret is tried against both headers. */
  async #match(bytes: Uint8Array, current: Uint8Array<ArrayBuffer>, previous: Uint8Array<ArrayBuffer> | undefined): Promise<SignatureMatch> {
    const keys = await this.#keys;
    const crypto = subtle();
    // A Uint8Array over a SharedArrayBuffer is still a valid BufferSource at runtime; only the lib types differ.
    const data = bytes as Uint8Array<ArrayBuffer>;
    for (let i = 0; i < keys.length; i++) {
      if (await crypto.verify('HMAC', keys[i]!, current, data)) return this.#matches[i]!.current;
      if (previous !== undefined && (await crypto.verify('HMAC', keys[i]!, previous, data))) return this.#matches[i]!.previous;
    }
    throw new WebhookError('invalid_signature', 'No configured secret produces the signature of this body.');
  }

  #checkFreshness(deliveredAt: number): void {
    const now = this.#now();
    if (now - deliveredAt > this.toleranceMs) {
      throw new WebhookError('stale_delivery', `Delivered ${Math.round((now - deliveredAt) / 1000)} s ago; the replay window is ${Math.round(this.toleranceMs / 1000)} s.`);
    }
    if (deliveredAt - now > this.futureToleranceMs) {
      throw new WebhookError('future_delivery', `deliveredAt is ${Math.round((deliveredAt - now) / 1000)} s ahead of this receiver's clock.`);
    }
  }
}

export function createWebCryptoVerifier(options: WebCryptoVerifyOptions): WebCryptoWebhookVerifier {
  return new WebCryptoWebhookVerifier(options);
}

const verifierCache = new WeakMap<WebCryptoVerifyOptions, WebCryptoWebhookVerifier>();

/**
 * Verifies a delivery with WebCrypto and resolves with the typed event; rejects with `WebhookError`
 * (same codes as `verifyWebhook`). Keys are imported once per options object (keep it in a module
 * constant), or pass a `WebCryptoWebhookVerifier`.
 *
 *   const event = await verifyWebhookAsync(new Uint8Array(await request.arrayBuffer()), request.headers, { secrets: [env.SECRET] });
 */
export async function verifyWebhookAsync<E extends ApifyCloudWebhookEvent = ApifyCloudWebhookEvent>(
  rawBody: WebRawBody,
  headers: HeadersInput,
  options: WebCryptoVerifyOptions | WebCryptoWebhookVerifier,
): Promise<E> {
  let verifier: WebCryptoWebhookVerifier | undefined = options instanceof WebCryptoWebhookVerifier ? options : verifierCache.get(options);
  if (verifier === undefined) {
    verifier = new WebCryptoWebhookVerifier(options);
    verifierCache.set(options, verifier);
  }
  return (await verifier.verify<E>(rawBody, headers)).event;
}

export { WebhookError, isWebhookError, WEBHOOK_ERROR_STATUS, type WebhookErrorCode } from '../core/errors.js';
