/**
 * The delivery's unsigned headers, read the same way by the Node core and the WebCrypto verifier:
 * the signature header decoded to bytes, and the headers that repeat signed fields checked against
 * the body. No `node:` import, so the WebCrypto entry can load it on any runtime.
 */
import { WebhookHeaders } from './constants.js';
import { WebhookError } from './errors.js';
import { readSingleHeader, type HeaderShape } from './headers.js';
import type { HeadersInput } from './types.js';

const SIGNATURE_PREFIX = 'sha256=';
const SIGNATURE_LENGTH = SIGNATURE_PREFIX.length + 64;

/** Hex digit value of each Latin-1 character code, -1 for anything else. */
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX_VALUE[0x30 + c] = c;
for (let c = 0; c < 6; c++) HEX_VALUE[0x41 + c] = HEX_VALUE[0x61 + c] = 10 + c;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * Decodes `sha256=<64 hex>` into `into` (32 bytes), or reports it malformed. Checks every character,
 * so no input (wrong length, multibyte junk, NUL) can reach the constant-time compare with a wrong size.
 * Returns false when the header is absent.
 */
export function parseSignature(value: string | undefined | null, headerName: string, into: Uint8Array): boolean {
  if (value === undefined) return false;
  if (value === null) throw new WebhookError('malformed_signature', `${headerName} was sent more than once with different values.`);
  let text = value;
  if (text.length > 0 && (isSpace(text.charCodeAt(0)) || isSpace(text.charCodeAt(text.length - 1)))) text = text.trim();
  if (text.length !== SIGNATURE_LENGTH || !text.startsWith(SIGNATURE_PREFIX)) {
    throw new WebhookError('malformed_signature', `${headerName} is not "sha256=" followed by 64 hexadecimal characters.`);
  }
  let invalid = 0;
  for (let i = 0, at = SIGNATURE_PREFIX.length; i < 32; i++, at += 2) {
    // Characters beyond 0xFF (multibyte junk) index past the table and read undefined, i.e. invalid.
    const high = HEX_VALUE[text.charCodeAt(at)] ?? -1;
    const low = HEX_VALUE[text.charCodeAt(at + 1)] ?? -1;
    invalid |= high | low;
    into[i] = (high << 4) | low;
  }
  if (invalid < 0) throw new WebhookError('malformed_signature', `${headerName} is not "sha256=" followed by 64 hexadecimal characters.`);
  return true;
}

/**
 * The delivery headers are not signed, so each one that repeats a signed field must agree with it
 * (replayed bytes with an altered header are refused). Returns the subscription id (the
 * idempotency key's prefix): the signed one, or the header's for bodies signed before the
 * platform added subscription_id. Shared by the Node and the WebCrypto verifiers.
 */
export function checkDeliveryHeaders(
  headers: HeadersInput,
  shape: HeaderShape,
  fields: { id: string; event: string; attempt: number; subscriptionId?: string },
): { subscriptionId: string; fromBody: boolean } {
  const delivery = readSingleHeader(headers, WebhookHeaders.Delivery, shape);
  if (delivery == null) throw new WebhookError('invalid_delivery_header', 'X-ApifyCloud-Delivery header is missing or repeated.');
  const colon = delivery.lastIndexOf(':');
  if (colon <= 0) throw new WebhookError('invalid_delivery_header', 'X-ApifyCloud-Delivery is not "<subscriptionId>:<attempt>".');
  if (!endsWithNumber(delivery, colon + 1, fields.attempt)) {
    throw new WebhookError('header_mismatch', 'The attempt in X-ApifyCloud-Delivery is not the attempt in the signed body.');
  }
  const headerSubscriptionId = delivery.slice(0, colon);
  const signed = fields.subscriptionId;
  if (signed !== undefined && headerSubscriptionId !== signed && headerSubscriptionId.trim() !== signed) {
    throw new WebhookError('header_mismatch', 'The subscription in X-ApifyCloud-Delivery is not the subscription_id of the signed body.');
  }
  const eventId = readSingleHeader(headers, WebhookHeaders.EventId, shape);
  if (eventId === null) throw new WebhookError('invalid_delivery_header', 'X-ApifyCloud-Event-Id was sent more than once with different values.');
  if (eventId !== undefined && eventId !== fields.id && eventId.trim() !== fields.id) {
    throw new WebhookError('header_mismatch', 'X-ApifyCloud-Event-Id does not match the id of the signed body.');
  }
  const eventType = readSingleHeader(headers, WebhookHeaders.Event, shape);
  if (eventType === null) throw new WebhookError('invalid_delivery_header', 'X-ApifyCloud-Event was sent more than once with different values.');
  if (eventType !== undefined && eventType !== fields.event && eventType.trim() !== fields.event) {
    throw new WebhookError('header_mismatch', 'X-ApifyCloud-Event does not match the event of the signed body.');
  }
  return signed !== undefined && signed.length > 0 ? { subscriptionId: signed, fromBody: true } : { subscriptionId: headerSubscriptionId, fromBody: false };
}

/** Whether `text` from `start` is exactly the decimal digits of `expected`, without building a string. */
function endsWithNumber(text: string, start: number, expected: number): boolean {
  let end = text.length;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  if (end === start || end - start > 15) return false;
  let value = 0;
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return false;
    value = value * 10 + d;
  }
  return value === expected;
}
