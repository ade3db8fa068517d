import { lookup as dnsLookup, LookupAddress } from 'node:dns';

/** Every address a hostname resolves to, in the resolver's order. */
export type LookupAll = (hostname: string) => Promise<LookupAddress[]>;

/** getaddrinfo through dns.lookup: it honours /etc/hosts and nsswitch, but runs on libuv's thread pool. */
export const systemLookupAll: LookupAll = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

export interface DnsCacheOptions {
  /** The resolver behind the cache; the system's getaddrinfo unless a test injects one. */
  lookup?: LookupAll;
  /** Milliseconds since any fixed origin; only differences are used. */
  now?: () => number;
  /** Hostnames kept; the least recently used is dropped beyond this. */
  maxEntries?: number;
  /** How long an answer is reused. */
  ttlMs?: number;
  /** How long a failure (including a timeout) is reused. */
  negativeTtlMs?: number;
  /** How long a caller waits for one lookup before getting ETIMEOUT, counted from its `resolve` call (time queued included). */
  timeoutMs?: number;
  /** Underlying lookups allowed to run (or hang) at once; more wait in a FIFO queue. A positive integer, or Infinity. */
  maxConcurrentLookups?: number;
}

interface Entry {
  answer: Promise<LookupAddress[]>;
  /** Infinity while the lookup is in flight, so concurrent callers join it instead of starting another. */
  expiresAt: number;
}

/**
 * Caches dns.lookup answers for the webhook worker's connect-time lookups.
 *
 * dns.lookup is getaddrinfo on libuv's thread pool (4 threads by default, shared with zlib, fs and
 * crypto). Uncached, every new connection took a thread, and a slow resolver let a burst of
 * deliveries occupy all of them. Here a hostname costs at most one lookup per TTL, concurrent
 * callers share one in-flight lookup, a dead name at most one per negative TTL, nobody waits
 * longer than `timeoutMs`, and at most `maxConcurrentLookups` threads are ever held by lookups.
 *
 * The cache holds raw answers, never a verdict: the SSRF check runs on them at every connection.
 */
export class DnsCache {
  // getaddrinfo reports no TTLs, so the record's own TTL cannot be honoured. 30 s is short enough that
  // a subscriber moving to a new address is followed within half a minute (its keep-alive connections
  // already outlive that), and long enough that a busy host costs two lookups a minute, not one per connection.
  static readonly DEFAULT_TTL_MS = 30_000;
  // Short, so a name that comes back (or a transient EAI_AGAIN) is retried soon; long enough that a dead
  // name or a hung resolver costs one lookup per 5 s instead of one per delivery attempt.
  static readonly DEFAULT_NEGATIVE_TTL_MS = 5_000;
  static readonly DEFAULT_TIMEOUT_MS = 5_000;
  static readonly DEFAULT_MAX_ENTRIES = 1_000;
  // Half of libuv's default pool of 4, so however badly the resolver hangs, fs, zlib and crypto keep two
  // threads. Raise it only together with UV_THREADPOOL_SIZE.
  static readonly DEFAULT_MAX_CONCURRENT_LOOKUPS = 2;

  private readonly entries = new Map<string, Entry>();
  private readonly lookup: LookupAll;
  private readonly now: () => number;
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly timeoutMs: number;
  private readonly maxConcurrentLookups: number;
  private timeoutCount = 0;
  private strandedCount = 0;
  /** Underlying lookups started and not yet returned, stranded ones included. */
  private runningCount = 0;
  /** Lookups waiting for a slot, oldest first; a Set so a timed-out one can be dropped from the middle. */
  private readonly queue = new Set<() => void>();

  constructor(options: DnsCacheOptions = {}) {
    this.lookup = options.lookup ?? systemLookupAll;
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? DnsCache.DEFAULT_MAX_ENTRIES;
    this.ttlMs = options.ttlMs ?? DnsCache.DEFAULT_TTL_MS;
    this.negativeTtlMs = options.negativeTtlMs ?? DnsCache.DEFAULT_NEGATIVE_TTL_MS;
    this.timeoutMs = options.timeoutMs ?? DnsCache.DEFAULT_TIMEOUT_MS;
    this.maxConcurrentLookups = options.maxConcurrentLookups ?? DnsCache.DEFAULT_MAX_CONCURRENT_LOOKUPS;
    // Below 1 nothing would ever start, and every resolve would end in ETIMEOUT.
    if (!(this.maxConcurrentLookups >= 1) || (this.maxConcurrentLookups !== Infinity && !Number.isInteger(this.maxConcurrentLookups))) {
      throw new RangeError(`maxConcurrentLookups must be a positive integer or Infinity, not ${this.maxConcurrentLookups}`);
    }
  }

  /** The addresses of `hostname`, or the lookup's error (its `code` kept: ENOTFOUND, EAI_AGAIN, ETIMEOUT, …). */
  async resolve(hostname: string): Promise<LookupAddress[]> {
    const key = hostname.toLowerCase();
    let entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.now()) entry = undefined;
    // Re-inserting moves the key to the end of the Map's order, which is what makes the first key the LRU.
    this.entries.delete(key);
    entry ??= this.start(hostname);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    const addresses = await entry.answer;
    // Copies, so no caller can change what the next one is handed.
    return addresses.map((address) => ({ ...address }));
  }

  /** Hostnames held, in flight or answered. */
  get size(): number {
    return this.entries.size;
  }

  /** Lookups given up on after `timeoutMs` since this cache was made, queued ones that never started included. */
  get timeouts(): number {
    return this.timeoutCount;
  }

  /** Timed-out lookups that have not returned yet: each still holds a libuv thread. */
  get stranded(): number {
    return this.strandedCount;
  }

  private start(hostname: string): Entry {
    const entry: Entry = { answer: this.lookupWithTimeout(hostname), expiresAt: Infinity };
    // An evicted entry is updated too; harmless, as nothing refers to it but its callers.
    entry.answer.then(
      () => (entry.expiresAt = this.now() + this.ttlMs),
      () => (entry.expiresAt = this.now() + this.negativeTtlMs),
    );
    return entry;
  }

  /**
   * One lookup, run when a slot is free, given up on `timeoutMs` after it was asked for.
   *
   * Why the cap, and why a stranded lookup keeps its slot: the timeout only stops us waiting; the
   * getaddrinfo call goes on blocking its libuv thread until the resolver answers. If a timed-out
   * lookup gave its slot back, a hung resolver would get a new thread every `timeoutMs` until all of
   * libuv's threads were stuck in getaddrinfo and every fs, zlib and crypto call in the process
   * queued behind them. So a slot is freed only when the underlying lookup returns, and while the
   * resolver hangs, lookups beyond the cap wait here and fail with ETIMEOUT (their clock runs from
   * the request, not from the start) instead of taking more threads. A queued lookup whose timeout
   * has passed is dropped unstarted: every caller waiting on it has already been told ETIMEOUT.
   */
  private lookupWithTimeout(hostname: string): Promise<LookupAddress[]> {
    return new Promise((resolve, reject) => {
      let started = false;
      let timedOut = false;
      const run = () => {
        started = true;
        this.runningCount += 1;
        // async, so a lookup that throws instead of rejecting still clears the timer and frees its slot.
        (async () => this.lookup(hostname))().then(
          (addresses) => {
            settle();
            resolve(addresses);
          },
          (error: unknown) => {
            settle();
            reject(error);
          },
        );
      };
      // A late answer is dropped rather than cached: the negative entry expires soon anyway.
      const settle = () => {
        if (timedOut) this.strandedCount -= 1;
        else clearTimeout(timer);
        this.runningCount -= 1;
        this.startQueued();
      };
      // A thread blocked in getaddrinfo cannot be cancelled: we only stop waiting, and count it.
      const timer = setTimeout(() => {
        timedOut = true;
        this.timeoutCount += 1;
        if (started) this.strandedCount += 1;
        else this.queue.delete(run);
        reject(
          Object.assign(new Error(`getaddrinfo ETIMEOUT ${hostname} (no answer within ${this.timeoutMs} ms)`), {
            code: 'ETIMEOUT',
            syscall: 'getaddrinfo',
            hostname,
          }),
        );
      }, this.timeoutMs);
      timer.unref?.();
      this.queue.add(run);
      this.startQueued();
    });
  }

  /** Starts waiting lookups, oldest first, while slots are free. */
  private startQueued(): void {
    for (const run of this.queue) {
      if (this.runningCount >= this.maxConcurrentLookups) return;
      this.queue.delete(run);
      run();
    }
  }
}
