import { WebhookError } from './errors.js';

/** The top-level fields of the signed body that verification needs before the full decode. */
export interface EnvelopeFields {
  id: string;
  event: string;
  deliveredAt: string;
  attempt: number;
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

function decodeString(buf: Buffer, start: number, end: number): string {
  // Escapes are rare in ids and timestamps; only then pay for JSON.parse.
  for (let k = start + 1; k < end - 1; k++) if (buf[k] === BACKSLASH) return JSON.parse(buf.toString('utf8', start, end)) as string;
  return buf.toString('utf8', start + 1, end - 1);
}

/**
 * Reads `id`, `event`, `deliveredAt` and `attempt` from the top level of the signed bytes without
 * decoding the whole document: the replay check and the idempotency key need only these, and a full
 * `JSON.parse` costs as much as the HMAC itself. The full decode (`VerifiedWebhook.event`) re-checks
 * that it sees the same four values, so a duplicated key cannot make the two readings disagree.
 */
export function scanEnvelope(buf: Buffer): Partial<EnvelopeFields> {
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
    if (keyEquals(buf, keyStart, keyEnd, 'id')) {
      if (fields.id === undefined && isString) { fields.id = decodeString(buf, valueStart, i); found++; }
    } else if (keyEquals(buf, keyStart, keyEnd, 'event')) {
      if (fields.event === undefined && isString) { fields.event = decodeString(buf, valueStart, i); found++; }
    } else if (keyEquals(buf, keyStart, keyEnd, 'deliveredAt')) {
      if (fields.deliveredAt === undefined && isString) { fields.deliveredAt = decodeString(buf, valueStart, i); found++; }
    } else if (keyEquals(buf, keyStart, keyEnd, 'attempt')) {
      if (fields.attempt === undefined && !isString) {
        const n = Number(buf.toString('latin1', valueStart, i));
        if (Number.isNaN(n)) throw invalidJson();
        fields.attempt = n;
        found++;
      }
    }
    if (found === 4) return fields;
    i = skipWhitespace(buf, i);
    const sep = buf[i];
    if (sep === CLOSE_BRACE) return fields;
    if (sep !== COMMA) throw invalidJson();
    i = skipWhitespace(buf, i + 1);
  }
}
