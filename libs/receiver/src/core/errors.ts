export type WebhookErrorCode =
  | 'missing_signature'
  | 'malformed_signature'
  | 'invalid_signature'
  | 'stale_delivery'
  | 'future_delivery'
  | 'invalid_json'
  | 'invalid_payload'
  | 'invalid_delivery_header'
  | 'header_mismatch'
  | 'unknown_event'
  | 'payload_too_large'
  | 'raw_body_unavailable'
  | 'delivery_in_progress'
  | 'idempotency_store_unavailable';

/** HTTP status each code answers with: 401 for authenticity, 400 for malformed input, 5xx only where a retry can succeed. */
export const WEBHOOK_ERROR_STATUS: Readonly<Record<WebhookErrorCode, number>> = {
  missing_signature: 401,
  malformed_signature: 400,
  invalid_signature: 401,
  stale_delivery: 401,
  future_delivery: 401,
  invalid_json: 400,
  invalid_payload: 400,
  invalid_delivery_header: 400,
  // The bytes are authentic but an unsigned header was changed: someone replaying captured bytes, not the platform.
  header_mismatch: 400,
  unknown_event: 422,
  payload_too_large: 413,
  // 500 rather than 4xx: it is the receiver's misconfiguration, and the platform keeps retrying until it is fixed.
  raw_body_unavailable: 500,
  delivery_in_progress: 409,
  idempotency_store_unavailable: 503,
};

const DEFAULT_HINTS: Readonly<Record<WebhookErrorCode, string>> = {
  missing_signature: 'Send the X-ApifyCloud-Signature header; only ApifyCloud deliveries are accepted here.',
  malformed_signature: 'X-ApifyCloud-Signature must be "sha256=" followed by 64 hexadecimal characters.',
  invalid_signature:
    'The body does not match any configured secret. Check the subscription secret (after a rotation, configure both the new and the old one) and make sure nothing re-serialised the body before verification.',
  stale_delivery: 'deliveredAt is older than the replay window. Check the receiver clock (NTP) or widen toleranceMs.',
  future_delivery: 'deliveredAt lies in the future beyond the allowed clock skew. Check the receiver clock (NTP).',
  invalid_json: 'The signed body is not valid JSON.',
  invalid_payload: 'The signed body is JSON but not an ApifyCloud webhook envelope.',
  invalid_delivery_header: 'X-ApifyCloud-Delivery must be "<subscriptionId>:<attempt>" with the attempt of the signed body.',
  header_mismatch:
    'An X-ApifyCloud-* header contradicts the signed body (subscription_id, id, event or attempt). The platform never sends that; the request was altered or replayed.',
  unknown_event: 'This event type is newer than this version of @apifycloud/webhook-receiver; upgrade it, or acknowledge unknown events with 2xx.',
  payload_too_large:
    "The body exceeds the receiver's body limit (1 MiB by default). Raise maxBodyBytes, and the limit of any body parser in front of the receiver (express.json({ limit }), Fastify bodyLimit, NestJS useBodyParser('json', { limit })) to the same value.",
  raw_body_unavailable: 'The raw request body is needed to verify the signature.',
  delivery_in_progress: 'This event is being processed by another request; retry later.',
  idempotency_store_unavailable: 'The idempotency store failed or did not answer within storeTimeoutMs; retry later.',
};

/**
 * Every failure carries a stable `code` to branch on, the HTTP `status` to answer with,
 * and a `hint` that says how to fix it (adapters put both in the response body, which the
 * platform shows in its delivery log).
 */
export class WebhookError extends Error {
  override readonly name = 'WebhookError';
  readonly status: number;
  readonly hint: string;

  constructor(
    readonly code: WebhookErrorCode,
    message: string,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = WEBHOOK_ERROR_STATUS[code];
    this.hint = options.hint ?? DEFAULT_HINTS[code];
  }

  /** The JSON body adapters answer with. */
  toJSON(): { error: { code: WebhookErrorCode; message: string; hint: string } } {
    return { error: { code: this.code, message: this.message, hint: this.hint } };
  }
}

/** Also true for a `WebhookError` from the other module format's copy of this package (dual ESM/CJS installs). */
export function isWebhookError(value: unknown): value is WebhookError {
  if (value instanceof WebhookError) return true;
  const candidate = value as Partial<WebhookError> | null;
  return candidate instanceof Error && candidate.name === 'WebhookError' && typeof candidate.code === 'string' && candidate.code in WEBHOOK_ERROR_STATUS;
}
