import type { ClaimResult, IdempotencyStore } from './store.js';

export interface MemoryIdempotencyStoreOptions {
  /** Most keys kept; the oldest are dropped first when full. Default 100 000. */
  maxEntries?: number;
  /** Clock, injectable for tests. Default `Date.now`. */
  now?: () => number;
}

interface Entry {
  token: string | undefined;
  expiresAt: number;
}

/**
 * Keys in this process's memory: right for a single instance and for tests. Several instances behind
 * a load balancer each see only their own keys; use `RedisIdempotencyStore` there.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #now: () => number;
  #counter = 0;

  constructor(options: MemoryIdempotencyStoreOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 100_000;
    if (!(this.#maxEntries >= 1)) throw new TypeError('maxEntries must be at least 1');
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  async claim(key: string, inFlightTtlMs: number): Promise<ClaimResult> {
    const now = this.#now();
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      if (entry.expiresAt > now) {
        return entry.token === undefined ? { state: 'completed' } : { state: 'in_flight', retryAfterMs: entry.expiresAt - now };
      }
      this.#entries.delete(key);
    }
    this.#evict(now);
    const token = String(++this.#counter);
    this.#entries.set(key, { token, expiresAt: now + inFlightTtlMs });
    return { state: 'claimed', token };
  }

  async complete(key: string, token: string, completedTtlMs: number): Promise<void> {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.token !== token) return;
    entry.token = undefined;
    entry.expiresAt = this.#now() + completedTtlMs;
    // Re-inserting moves the key to the end of the Map, which keeps eviction order close to expiry order.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
  }

  async extend(key: string, token: string, inFlightTtlMs: number): Promise<void> {
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.token === token) entry.expiresAt = Math.max(entry.expiresAt, this.#now() + inFlightTtlMs);
  }

  async release(key: string, token: string): Promise<void> {
    if (this.#entries.get(key)?.token === token) this.#entries.delete(key);
  }

  /** Drops expired keys from the oldest end, then the oldest keys while over the cap: amortised O(1). */
  #evict(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now || this.#entries.size >= this.#maxEntries) this.#entries.delete(key);
      else break;
    }
  }
}
