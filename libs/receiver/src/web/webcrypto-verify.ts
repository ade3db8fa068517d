/**
 * Signature verification on WebCrypto only (`crypto.subtle` HMAC-SHA256, TextEncoder/TextDecoder):
 * no `node:` import and no `Buffer` anywhere in this module's graph, so it runs unchanged on
 * Cloudflare Workers (workerd, without `nodejs_compat`), Vercel Edge, Deno, Bun and browsers.
 * Same checks, order and error codes as the synchronous core verifier (`WebhookReceiver.verify`), the
 * payload's shape included. Keep this file's imports to the node-free core modules (constants, errors,
 * headers, delivery-headers, payload, verify-options, generated/, type-only types): runtimes.spec.ts
 * and package.spec.ts fail on a `node:` import or a `Buffer` anywhere in the `/web` graph.
 */
import { WEBHOOK_EVENT_TYPES, WebhookHeaders } from '../core/constants.js';
import { WebhookError } from '../core/errors.js';
import { checkDeliveryHeaders, parseSignature } from '../core/delivery-headers.js';
import { headerShape, readSingleHeader } from '../core/headers.js';
import { assertDecodedEnvelope } from '../core/payload.js';
import type { ApifyCloudWebhookEvent, HeadersInput, SignatureMatch, WebVerifiedWebhook, WebhookEventType } from '../core/types.js';
import { checkFreshness, resolveVerifyOptions, type ResolvedVerifyOptions, type VerifyOptions } from '../core/verify-options.js';

/** The same options as the Node verifier's (`VerifyOptions`). */
export type WebCryptoVerifyOptions = VerifyOptions;

export type { WebVerifiedWebhook } from '../core/types.js';

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
  /** Only a string counts, as in the Node verifier's byte scan; another type fails the decode check later. */
  subscriptionId: string | undefined;
}

/** The top-level fields verification needs, with the Node verifier's checks and messages (`WebhookVerifier#readEnvelope`). */
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
  return { body, id, event, deliveredAtMs, attempt, subscriptionId: typeof subscriptionId === 'string' ? subscriptionId : undefined };
}

/** What `WebCryptoWebhookVerifier.verify` resolves with. */
class WebCryptoVerifiedWebhook<E extends ApifyCloudWebhookEvent> implements WebVerifiedWebhook<E> {
  constructor(
    readonly event: E,
    readonly rawBody: Uint8Array,
    readonly eventId: string,
    readonly eventType: E['event'],
    readonly deliveredAtMs: number,
    readonly attempt: number,
    readonly subscriptionId: string,
    readonly subscriptionIdSource: 'body' | 'header',
    readonly signature: SignatureMatch,
  ) {}

  get idempotencyKey(): string {
    return `${this.subscriptionId}:${this.eventId}`;
  }

  get deliveredAt(): Date {
    return new Date(this.deliveredAtMs);
  }

  /** Serialises as its summary (the raw body is left out of logs), as the Node `VerifiedWebhook` does. */
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

/**
 * A reusable WebCrypto verifier: options are validated and every secret imported as a non-extractable
 * HMAC key once. `verify` resolves with the decoded, shape-checked event or rejects with a `WebhookError`.
 */
export class WebCryptoWebhookVerifier {
  readonly options: ResolvedVerifyOptions;
  readonly #keys: Promise<CryptoKey[]>;
  readonly #matches: ReadonlyArray<{ current: SignatureMatch; previous: SignatureMatch }>;

  constructor(options: WebCryptoVerifyOptions) {
    this.options = resolveVerifyOptions(options);
    const crypto = subtle();
    this.#keys = Promise.all(this.options.secrets.map((secret) => crypto.importKey('raw', encoder.encode(secret), HMAC, false, ['verify'])));
    // Surfaced by the first verify(); not an unhandled rejection in the meantime.
    this.#keys.catch(() => undefined);
    this.#matches = this.options.secrets.map((_, secretIndex) => ({
      current: Object.freeze({ secretIndex, header: 'current' as const }),
      previous: Object.freeze({ secretIndex, header: 'previous' as const }),
    }));
  }

  get secrets(): readonly string[] {
    return this.options.secrets;
  }

  get toleranceMs(): number {
    return this.options.toleranceMs;
  }

  get futureToleranceMs(): number {
    return this.options.futureToleranceMs;
  }

  get maxBodyBytes(): number {
    return this.options.maxBodyBytes;
  }

  /** Same checks, in the same order and with the same error codes, as `WebhookReceiver.verify` (Node). */
  async verify<E extends ApifyCloudWebhookEvent = ApifyCloudWebhookEvent>(rawBody: WebRawBody, headers: HeadersInput): Promise<WebVerifiedWebhook<E>> {
    const bytes = toBytes(rawBody);
    if (bytes.byteLength > this.options.maxBodyBytes) {
      throw new WebhookError('payload_too_large', `The body has ${bytes.byteLength} bytes; the limit is ${this.options.maxBodyBytes}.`);
    }
    const shape = headerShape(headers, WebhookHeaders.Signature);
    const previous = signatureBytes(readSingleHeader(headers, WebhookHeaders.SignaturePrevious, shape), 'X-ApifyCloud-Signature-Previous');
    const current = signatureBytes(readSingleHeader(headers, WebhookHeaders.Signature, shape), 'X-ApifyCloud-Signature');
    if (current === undefined) throw new WebhookError('missing_signature', 'X-ApifyCloud-Signature header is missing.');
    const signature = await this.#match(bytes, current, previous);
    const envelope = readEnvelope(bytes);
    checkFreshness(this.options, envelope.deliveredAtMs);
    if (!KNOWN_EVENTS.has(envelope.event)) throw new WebhookError('unknown_event', `Unknown event type "${envelope.event}".`);
    const subscription = checkDeliveryHeaders(headers, shape, envelope);
    const webhook = new WebCryptoVerifiedWebhook<E>(
      envelope.body as unknown as E,
      bytes,
      envelope.id,
      envelope.event as WebhookEventType,
      envelope.deliveredAtMs,
      envelope.attempt,
      subscription.subscriptionId,
      subscription.fromBody ? 'body' : 'header',
      signature,
    );
    // The Node verifier's decode checks (payload.scheduled_call present and of the record's shape).
    assertDecodedEnvelope(envelope.body, webhook);
    return webhook;
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
