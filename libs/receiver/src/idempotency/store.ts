/** What a claim found. Only `claimed` lets the handler run, and its `token` must be passed to `complete` / `release`. */
export type ClaimResult = { state: 'claimed'; token: string } | { state: 'in_flight'; retryAfterMs?: number } | { state: 'completed' };

/**
 * Atomic claim / complete / release over idempotency keys (`<subscriptionId>:<eventId>`).
 * `complete` and `release` act only if the key is still held with the same `token`, so a claim that
 * expired and was taken by another request is never overwritten by the slow original.
 */
export interface IdempotencyStore {
  /** Claims `key` for `inFlightTtlMs` unless it is already claimed or completed. */
  claim(key: string, inFlightTtlMs: number): Promise<ClaimResult>;
  /** Marks the claimed key completed for `completedTtlMs`. */
  complete(key: string, token: string, completedTtlMs: number): Promise<void>;
  /** Drops the claim so the platform's next retry runs the handler again. */
  release(key: string, token: string): Promise<void>;
  /**
   * Pushes the expiry of a claim still held with `token` to `inFlightTtlMs` from now. Optional: a store
   * without it keeps its claims for one `inFlightTtlMs`, so handlers must finish within it.
   */
  extend?(key: string, token: string, inFlightTtlMs: number): Promise<void>;
}
