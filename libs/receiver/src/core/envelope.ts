import { WEBHOOK_EVENT_TYPES } from './constants.js';
import { WebhookError } from './errors.js';

/** The top-level fields of the signed body that verification needs before the full decode. */
export interface EnvelopeFields {
  id: string;
  event: string;
  /** `deliveredAt` as epoch milliseconds; NaN when it is not an ISO-8601 timestamp. */
  deliveredAtMs: number;
  attempt: number;
  /** `subscription_id`, which the platform signs since it added the field; absent in older deliveries. */
  subscriptionId?: string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function invalidJson(): WebhookError {
  return new WebhookError('invalid_json', 'The signed body is not valid JSON.');
}

function skipWhitespace(b: Uint8Array, i: number): number {
  const n = b.length;
  while (i < n) {
    const c = b[i]!;
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else break;
  }
  return i;
}

/** `i` is at an opening quote; returns the index just past the closing quote. */
function stringEnd(b: Uint8Array, i: number): number {
  const n = b.length;
  for (let j = i + 1; j < n; j++) {
    const c = b[j]!;
    if (c === BACKSLASH) j++;
    else if (c === QUOTE) return j + 1;
    else if (c < 0x20) throw invalidJson();
  }
  throw invalidJson();
}

/** Skips any JSON value; nested structure is only balanced here and fully validated by the later decode. */
function valueEnd(b: Uint8Array, i: number): number {
  const n = b.length;
  const c = b[i];
  if (c === QUOTE) return stringEnd(b, i);
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    let depth = 0;
    for (let j = i; j < n; j++) {
      const d = b[j]!;
      if (d === QUOTE) j = stringEnd(b, j) - 1;
      else if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
      else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) {
        if (--depth === 0) return j + 1;
      }
    }
    throw invalidJson();
  }
  let j = i;
  while (j < n) {
    const d = b[j]!;
    if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break;
    j++;
  }
  if (j === i) throw invalidJson();
  return j;
}

function keyEquals(b: Uint8Array, start: number, end: number, key: string): boolean {
  if (end - start !== key.length) return false;
  for (let k = 0; k < key.length; k++) if (b[start + k] !== key.charCodeAt(k)) return false;
  return true;
}

type Slicer = (buf: Buffer, start: number, end: number) => string;
// Buffer's own latin1Slice skips toString()'s argument normalisation; it is only used on pure-ASCII runs.
const latin1: Slicer =
  typeof (Buffer.prototype as { latin1Slice?: unknown }).latin1Slice === 'function'
    ? (buf, start, end) => (buf as Buffer & { latin1Slice(s: number, e: number): string }).latin1Slice(start, end)
    : (buf, start, end) => buf.toString('latin1', start, end);

/** `start`/`end` bound the string token including its quotes. */
function decodeString(buf: Buffer, start: number, end: number): string {
  for (let k = start + 1; k < end - 1; k++) {
    const c = buf[k]!;
    // Escapes and non-ASCII are rare in ids and timestamps; only then pay for a full decode.
    if (c === BACKSLASH || c >= 0x80) return JSON.parse(buf.toString('utf8', start, end)) as string;
  }
  return latin1(buf, start + 1, end - 1);
}

const KNOWN_EVENTS = WEBHOOK_EVENT_TYPES.map((name) => ({ name, bytes: Buffer.from(name, 'latin1') }));

/** Known event names are matched on the bytes and returned as constants, so they cost no decoding. */
function decodeEvent(buf: Buffer, start: number, end: number): string {
  const length = end - start - 2;
  for (let e = 0; e < KNOWN_EVENTS.length; e++) {
    const known = KNOWN_EVENTS[e]!;
    if (known.bytes.length === length && hasAt(buf, start + 1, known.bytes)) return known.name;
  }
  return decodeString(buf, start, end);
}

function digits(b: Uint8Array, start: number, count: number): number {
  let value = 0;
  for (let k = start; k < start + count; k++) {
    const d = b[k]! - 0x30;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/**
 * Epoch ms of a `YYYY-MM-DDTHH:MM:SS[.sss]Z` token (what `toISOString()` writes), read straight from
 * the bytes; any other form goes through `Date.parse`.
 */
function decodeTimestamp(buf: Buffer, start: number, end: number): number {
  const s = start + 1;
  const length = end - 1 - s;
  if (
    (length === 24 || length === 20) &&
    buf[s + 4] === 0x2d &&
    buf[s + 7] === 0x2d &&
    buf[s + 10] === 0x54 &&
    buf[s + 13] === 0x3a &&
    buf[s + 16] === 0x3a &&
    buf[s + length - 1] === 0x5a &&
    (length === 20 || buf[s + 19] === 0x2e)
  ) {
    const year = digits(buf, s, 4);
    const month = digits(buf, s + 5, 2);
    const day = digits(buf, s + 8, 2);
    const hour = digits(buf, s + 11, 2);
    const minute = digits(buf, s + 14, 2);
    const second = digits(buf, s + 17, 2);
    const ms = length === 24 ? digits(buf, s + 20, 3) : 0;
    if (
      year >= 0 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= 31 &&
      hour >= 0 &&
      hour <= 23 &&
      minute >= 0 &&
      minute <= 59 &&
      second >= 0 &&
      second <= 59 &&
      ms >= 0
    ) {
      return Date.UTC(year, month - 1, day, hour, minute, second, ms);
    }
    return Number.NaN;
  }
  return Date.parse(decodeString(buf, start, end));
}

function decodeAttempt(buf: Buffer, start: number, end: number): number {
  const plain = end - start <= 15 ? digits(buf, start, end - start) : -1;
  if (plain >= 0) return plain;
  const text = buf.toString('latin1', start, end);
  // Valid JSON that is not a number (the attempt check then answers invalid_payload, as the WebCrypto
  // verifier does after its JSON.parse); anything else that is no number is not JSON at all.
  if (text === 'true' || text === 'false' || text === 'null' || buf[start] === OPEN_BRACE || buf[start] === OPEN_BRACKET) return Number.NaN;
  const n = Number(text);
  if (Number.isNaN(n)) throw invalidJson();
  return n;
}

/**
 * Reads `id`, `subscription_id`, `event`, `deliveredAt` and `attempt` from the top level of the signed bytes without
 * decoding the whole document: the replay check and the idempotency key need only these, and a full
 * `JSON.parse` costs as much as the HMAC itself. The full decode (`VerifiedWebhook.event`) re-checks
 * that it sees the same values, so a duplicated key cannot make the two readings disagree.
 */
export function scanEnvelope(buf: Buffer): Partial<EnvelopeFields> {
  return scanPlatformLayout(buf) ?? scanAnyLayout(buf);
}

const ID_OPEN = Buffer.from('{"id":"');
const SUBSCRIPTION_KEY = Buffer.from('","subscription_id":"');
const EVENT_KEY = Buffer.from('","event":"');
const DELIVERED_AT_KEY = Buffer.from('","deliveredAt":"');
const ATTEMPT_KEY = Buffer.from('","attempt":');

function hasAt(buf: Buffer, at: number, expected: Buffer): boolean {
  if (at + expected.length > buf.length) return false;
  for (let k = 0; k < expected.length; k++) if (buf[at + k] !== expected[k]) return false;
  return true;
}

/**
 * Index of the quote closing the string whose content starts at `from`; -1 if an escape or a
 * non-ASCII byte comes first (those strings take the general path). A plain loop: these strings are
 * a few dozen bytes, shorter than what a native search call costs to set up.
 */
function plainStringEnd(buf: Buffer, from: number): number {
  const n = buf.length;
  for (let k = from; k < n; k++) {
    const c = buf[k]!;
    if (c === QUOTE) return k;
    if (c === BACKSLASH || c >= 0x80 || c < 0x20) return -1;
  }
  return -1;
}

/**
 * The layout the platform writes (id, subscription_id (optional, absent before the platform signed it), event, deliveredAt, attempt, payload, in that
 * order, no whitespace), read in one forward pass. Anything unexpected returns undefined and falls
 * back to the general scanner, so this only makes the common case cheaper, never different.
 */
function scanPlatformLayout(buf: Buffer): EnvelopeFields | undefined {
  if (!hasAt(buf, 0, ID_OPEN)) return undefined;
  const idStart = ID_OPEN.length;
  const idEnd = plainStringEnd(buf, idStart);
  if (idEnd < 0) return undefined;
  let subscriptionId: string | undefined;
  let beforeEvent = idEnd;
  if (hasAt(buf, idEnd, SUBSCRIPTION_KEY)) {
    const subscriptionStart = idEnd + SUBSCRIPTION_KEY.length;
    const subscriptionEnd = plainStringEnd(buf, subscriptionStart);
    if (subscriptionEnd < 0) return undefined;
    subscriptionId = latin1(buf, subscriptionStart, subscriptionEnd);
    beforeEvent = subscriptionEnd;
  }
  if (!hasAt(buf, beforeEvent, EVENT_KEY)) return undefined;
  const eventStart = beforeEvent + EVENT_KEY.length;
  const eventEnd = plainStringEnd(buf, eventStart);
  if (eventEnd < 0 || !hasAt(buf, eventEnd, DELIVERED_AT_KEY)) return undefined;
  const deliveredStart = eventEnd + DELIVERED_AT_KEY.length;
  const deliveredEnd = plainStringEnd(buf, deliveredStart);
  if (deliveredEnd < 0 || !hasAt(buf, deliveredEnd, ATTEMPT_KEY)) return undefined;
  const attemptStart = deliveredEnd + ATTEMPT_KEY.length;
  let attemptEnd = attemptStart;
  while (attemptEnd < buf.length && buf[attemptEnd]! >= 0x30 && buf[attemptEnd]! <= 0x39) attemptEnd++;
  if (attemptEnd === attemptStart || attemptEnd - attemptStart > 15 || (buf[attemptEnd] !== COMMA && buf[attemptEnd] !== CLOSE_BRACE)) return undefined;
  // Plain ASCII strings, checked above: no decoding beyond a latin1 slice.
  return {
    id: latin1(buf, idStart, idEnd),
    event: decodeEvent(buf, eventStart - 1, eventEnd + 1),
    deliveredAtMs: decodeTimestamp(buf, deliveredStart - 1, deliveredEnd + 1),
    attempt: digits(buf, attemptStart, attemptEnd - attemptStart),
    subscriptionId,
  };
}

function scanAnyLayout(buf: Buffer): Partial<EnvelopeFields> {
  const fields: Partial<EnvelopeFields> = {};
  let found = 0;
  let i = skipWhitespace(buf, 0);
  if (buf[i] !== OPEN_BRACE) throw invalidJson();
  i = skipWhitespace(buf, i + 1);
  if (buf[i] === CLOSE_BRACE) return fields;
  for (;;) {
    if (buf[i] !== QUOTE) throw invalidJson();
    const keyStart = i + 1;
    i = stringEnd(buf, i);
    const keyEnd = i - 1;
    i = skipWhitespace(buf, i);
    if (buf[i] !== COLON) throw invalidJson();
    i = skipWhitespace(buf, i + 1);
    const valueStart = i;
    i = valueEnd(buf, i);
    const isString = buf[valueStart] === QUOTE;
    const keyLength = keyEnd - keyStart;
    if (keyLength === 2 && keyEquals(buf, keyStart, keyEnd, 'id')) {
      if (fields.id === undefined && isString) {
        fields.id = decodeString(buf, valueStart, i);
        found++;
      }
    } else if (keyLength === 5 && keyEquals(buf, keyStart, keyEnd, 'event')) {
      if (fields.event === undefined && isString) {
        fields.event = decodeEvent(buf, valueStart, i);
        found++;
      }
    } else if (keyLength === 11 && keyEquals(buf, keyStart, keyEnd, 'deliveredAt')) {
      if (fields.deliveredAtMs === undefined && isString) {
        fields.deliveredAtMs = decodeTimestamp(buf, valueStart, i);
        found++;
      }
    } else if (keyLength === 7 && keyEquals(buf, keyStart, keyEnd, 'attempt')) {
      if (fields.attempt === undefined && !isString) {
        fields.attempt = decodeAttempt(buf, valueStart, i);
        found++;
      }
    } else if (keyLength === 15 && keyEquals(buf, keyStart, keyEnd, 'subscription_id')) {
      if (fields.subscriptionId === undefined && isString) {
        fields.subscriptionId = decodeString(buf, valueStart, i);
        found++;
      }
    }
    if (found === 5) return fields;
    i = skipWhitespace(buf, i);
    const sep = buf[i];
    if (sep === CLOSE_BRACE) return fields;
    if (sep !== COMMA) throw invalidJson();
    i = skipWhitespace(buf, i + 1);
  }
}
