/** Header names of the wire contract (SPEC §3), lower-cased as Node exposes them. */
export const WebhookHeaders = {
  Signature: 'x-apifycloud-signature',
  SignaturePrevious: 'x-apifycloud-signature-previous',
  Event: 'x-apifycloud-event',
  Delivery: 'x-apifycloud-delivery',
  Timestamp: 'x-apifycloud-timestamp',
  EventId: 'x-apifycloud-event-id',
} as const;

export const WEBHOOK_EVENT_TYPES = ['scheduled.created', 'scheduled.confirmed', 'scheduled.rescheduled', 'scheduled.cancelled', 'scheduled.no_show'] as const;

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
   * How long a claim protects a running handler, derived from the platform's schedule (SPEC §3):
   * each attempt waits at most 10 s, and the first retries come immediately and 5 s later, so the
   * first three attempts of one delivery all arrive within about 35 s of the first. 5 min covers
   * them with a wide margin, while a claim left by a crashed process still expires before the
   * fourth attempt (5 min after the third). A handler that runs longer keeps its claim: the receiver
   * extends it every third of this TTL until the handler settles.
   */
  inFlightTtlMs: 5 * 60_000,
  /**
   * How long claim / complete / release may take before the store counts as failed (and
   * `onStoreError` applies): well inside the platform's 10 s timeout, so even a hanging store gets
   * the delivery an answer (503 to retry, or a fail-open run) instead of a platform-side timeout.
   */
  storeTimeoutMs: 2_000,
} as const;
