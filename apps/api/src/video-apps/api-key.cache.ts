/** What a verified key grants: the app it belongs to, and its id (for revocation and last_used_at). */
export interface VerifiedKey {
  keyId: string;
  appId: string;
}

export interface ApiKeyCacheOptions {
  /** How long a revocation may go unnoticed, at most (SPEC §4: 1 s). */
  revocationBoundMs: number;
  /** How long a verified key is kept at all; past it, the next request looks it up again. */
  entryTtlMs: number;
  maxEntries: number;
}

export const API_KEY_CACHE_DEFAULTS: ApiKeyCacheOptions = { revocationBoundMs: 1_000, entryTtlMs: 60_000, maxEntries: 10_000 };

interface Entry {
  key: VerifiedKey;
  /** When the lookup that verified it was sent (monotonic ms): the database said "active" after this. */
  verifiedAt: number;
}

/**
 * The verified keys of one API process, so authentication costs no query, and the rules that keep
 * a revoked key from passing for more than `revocationBoundMs` after its revocation committed:
 *
 * - A revocation announced on pub/sub evicts its key at once (`evict`).
 * - Every process polls the revocation version; `confirm` records each answer. A version that grew
 *   by revocations not all announced clears the cache (we do not know which keys they were).
 * - An entry is trusted while the last answered poll was *sent* less than the bound ago: any
 *   revocation committed before that send was seen by it. When polls stop answering, an entry is
 *   trusted only for the bound after its own lookup, so a process cut off from the poll looks each
 *   key up at most once per bound.
 * - A lookup that was in flight while something was evicted is not cached (`generation`): it may
 *   have read the key before its revocation committed.
 *
 * Time is injected (monotonic milliseconds), so the rules are tested without waiting.
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, Entry>();
  private generation = 0;
  private confirmedAt = -Infinity;
  private knownVersion: number | null = null;
  /** Versions whose revocation arrived by pub/sub and was evicted; forgotten once the poll passes them. */
  private readonly announced = new Set<number>();

  constructor(
    /** Monotonic milliseconds; what polls and lookups measure their send time with. */
    readonly now: () => number = () => performance.now(),
    private readonly options: ApiKeyCacheOptions = API_KEY_CACHE_DEFAULTS,
  ) {}

  /** The key verified under this digest, if it may still be trusted. */
  get(digest: string): VerifiedKey | undefined {
    const entry = this.entries.get(digest);
    if (!entry) return undefined;
    const now = this.now();
    if (now - entry.verifiedAt > this.options.entryTtlMs) {
      this.entries.delete(digest);
      return undefined;
    }
    const bound = this.options.revocationBoundMs;
    return now - this.confirmedAt < bound || now - entry.verifiedAt < bound ? entry.key : undefined;
  }

  /** Call before a database lookup; pass the ticket to `put` with its result. */
  beginLookup(): { generation: number; sentAt: number } {
    return { generation: this.generation, sentAt: this.now() };
  }

  put(digest: string, key: VerifiedKey, ticket: { generation: number; sentAt: number }): void {
    if (ticket.generation !== this.generation) return;
    this.entries.delete(digest);
    if (this.entries.size >= this.options.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(digest, { key, verifiedAt: ticket.sentAt });
  }

  /** A key was revoked (announced with the version its revocation produced, when known). */
  evict(keyId: string, version?: number): void {
    this.generation++;
    for (const [digest, entry] of this.entries) {
      if (entry.key.keyId === keyId) this.entries.delete(digest);
    }
    if (version !== undefined && (this.knownVersion === null || version > this.knownVersion)) this.announced.add(version);
  }

  /** The revocation version, as read by a poll sent at `sentAt`. */
  confirm(version: number, sentAt: number): void {
    if (this.knownVersion === null || !this.allAnnounced(this.knownVersion, version)) this.clear();
    for (const seen of this.announced) if (seen <= version) this.announced.delete(seen);
    this.knownVersion = version;
    this.confirmedAt = Math.max(this.confirmedAt, sentAt);
  }

  get size(): number {
    return this.entries.size;
  }

  private allAnnounced(from: number, to: number): boolean {
    if (to < from || to - from > this.announced.size) return to === from;
    for (let version = from + 1; version <= to; version++) if (!this.announced.has(version)) return false;
    return true;
  }

  private clear(): void {
    this.generation++;
    this.entries.clear();
  }
}
