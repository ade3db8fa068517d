/** Header names of the wire contract (SPEC §3), lower-cased as Node exposes them. */
export const WebhookHeaders = {
  Signature: 'x-apifycloud-signature',
  SignaturePrevious: 'x-apifycloud-signature-previous',
  Event: 'x-apifycloud-event',
  Delivery: 'x-apifycloud-delivery',
  Timestamp: 'x-apifycloud-timestamp',
  EventId: 'x-apifycloud-event-id',
} as const;

export const WEBHOOK_EVENT_TYPES = [
  'scheduled.created',
  'scheduled.confirmed',
  'scheduled.rescheduled',
  'scheduled.cancelled',
  'scheduled.no_show',
] as const;

export const Defaults = {
  /** How old a signed `deliveredAt` may be. Retries are re-signed with a fresh `deliveredAt`, so 5 min is generous. */
  toleranceMs: 5 * 60_000,
  /** Receivers' clocks drift; a delivery slightly "from the future" is skew, not an attack. */
  futureToleranceMs: 60_000,
  /** Booking records are small; 1 MiB leaves room for large `metadata` without letting a client stream gigabytes. */
  maxBodyBytes: 1024 * 1024,
  /** Longer than the platform's whole retry schedule (about 28 h), so a late retry is still recognised. */
  completedTtlMs: 7 * 24 * 60 * 60_000,
  /**
   * A claim left by a crashed process must expire before the platform's 5-minute retry,
   * yet outlive its 10 s timeout so a concurrent retry of a slow handler is answered 409.
   */
  inFlightTtlMs: 2 * 60_000,
} as const;
