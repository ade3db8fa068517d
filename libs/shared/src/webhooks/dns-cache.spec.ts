import type { LookupAddress } from 'node:dns';
import { DnsCache, DnsCacheOptions, LookupAll } from './dns-cache';
import { ForbiddenUrlError, guardedLookup } from './ssrf-guard';

const PUBLIC: LookupAddress[] = [{ address: '93.184.216.34', family: 4 }];
const PRIVATE: LookupAddress[] = [{ address: '10.1.2.3', family: 4 }];

function dnsError(code: string, hostname: string): Error {
  return Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), { code });
}

/** A lookup that answers only when the test says so. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A lookup that hangs for every hostname until the test answers that hostname. */
function hangingLookups() {
  const pending = new Map<string, (addresses: LookupAddress[]) => void>();
  const answer: LookupAll = (host) => new Promise((resolve) => pending.set(host, resolve));
  return { answer, release: (host: string) => pending.get(host)!(PUBLIC) };
}

function makeSut(answer: LookupAll = async () => PUBLIC, options: Omit<DnsCacheOptions, 'lookup' | 'now'> = {}) {
  let time = 1_000_000;
  const lookup = jest.fn(answer);
  const sut = new DnsCache({ ...options, lookup, now: () => time });
  return { sut, lookup, advance: (ms: number) => (time += ms) };
}

describe(DnsCache.name, () => {
  afterEach(() => jest.useRealTimers());

  it('answers a hostname again from the cache within the TTL', async () => {
    const { sut, lookup, advance } = makeSut();
    await expect(sut.resolve('hooks.example')).resolves.toEqual(PUBLIC);
    advance(29_999);
    await expect(sut.resolve('hooks.example')).resolves.toEqual(PUBLIC);
    expect(lookup).toHaveBeenCalledTimes(1);
  });

  it('looks the hostname up again once the 30 s TTL has passed', async () => {
    const { sut, lookup, advance } = makeSut();
    await sut.resolve('hooks.example');
    advance(30_000);
    await sut.resolve('hooks.example');
    expect(lookup).toHaveBeenCalledTimes(2);
  });

  it('shares one in-flight lookup among concurrent callers of the same hostname', async () => {
    const answer = deferred<LookupAddress[]>();
    const { sut, lookup } = makeSut(() => answer.promise);
    const callers = Array.from({ length: 10 }, () => sut.resolve('hooks.example'));
    answer.resolve(PUBLIC);
    await expect(Promise.all(callers)).resolves.toEqual(Array(10).fill(PUBLIC));
    expect(lookup).toHaveBeenCalledTimes(1);
  });

  it('drops the least recently used hostname beyond its bound', async () => {
    const { sut, lookup } = makeSut(undefined, { maxEntries: 2 });
    for (const host of ['a.example', 'b.example', 'a.example', 'c.example']) await sut.resolve(host);
    expect(sut.size).toBe(2);
    await sut.resolve('a.example'); // used after b, so kept
    await sut.resolve('b.example'); // evicted by c
    expect(lookup.mock.calls.map(([host]) => host)).toEqual(['a.example', 'b.example', 'c.example', 'b.example']);
  });

  it('gives up after the timeout with ETIMEOUT and counts the lookup still running', async () => {
    jest.useFakeTimers();
    const late = deferred<LookupAddress[]>();
    const { sut } = makeSut(() => late.promise, { timeoutMs: 5_000 });
    let settled = false;
    const caller = sut.resolve('slow.example').finally(() => (settled = true));
    caller.catch(() => undefined); // asserted below; keeps Node from reporting it as unhandled meanwhile
    await jest.advanceTimersByTimeAsync(4_999);
    expect(settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await expect(caller).rejects.toMatchObject({ code: 'ETIMEOUT' });
    expect({ timeouts: sut.timeouts, stranded: sut.stranded }).toEqual({ timeouts: 1, stranded: 1 });
    late.resolve(PUBLIC);
    await jest.advanceTimersByTimeAsync(0);
    expect({ timeouts: sut.timeouts, stranded: sut.stranded }).toEqual({ timeouts: 1, stranded: 0 });
  });

  it('remembers a failure for the 5 s negative TTL only', async () => {
    const { sut, lookup, advance } = makeSut(async (host) => Promise.reject(dnsError('ENOTFOUND', host)));
    await expect(sut.resolve('gone.example')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    advance(4_999);
    await expect(sut.resolve('gone.example')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(lookup).toHaveBeenCalledTimes(1);
    advance(1);
    await expect(sut.resolve('gone.example')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(lookup).toHaveBeenCalledTimes(2);
  });

  it('remembers a timeout like any failure, so a hung resolver is not asked once per delivery', async () => {
    const { sut, lookup } = makeSut(() => new Promise(() => undefined), { timeoutMs: 1 });
    await expect(sut.resolve('hung.example')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    await expect(sut.resolve('hung.example')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    expect(lookup).toHaveBeenCalledTimes(1);
  });

  it('hands each caller its own copy of the answer', async () => {
    const { sut } = makeSut();
    (await sut.resolve('hooks.example'))[0].address = '127.0.0.1';
    await expect(sut.resolve('hooks.example')).resolves.toEqual(PUBLIC);
  });

  describe('cap on concurrent lookups', () => {
    beforeEach(() => jest.useFakeTimers());

    /** Calls resolve and keeps its rejection from being reported as unhandled before the test asserts it. */
    function resolveQuietly(sut: DnsCache, host: string) {
      const caller = sut.resolve(host);
      caller.catch(() => undefined);
      return caller;
    }

    it('starts at most 2 lookups by default and starts a queued one when a running one returns', async () => {
      const hosts = hangingLookups();
      const { sut, lookup } = makeSut(hosts.answer);
      const callers = ['a.example', 'b.example', 'c.example'].map((host) => resolveQuietly(sut, host));
      await jest.advanceTimersByTimeAsync(0);
      expect(lookup.mock.calls.map(([host]) => host)).toEqual(['a.example', 'b.example']);
      hosts.release('a.example');
      await jest.advanceTimersByTimeAsync(0);
      expect(lookup.mock.calls.map(([host]) => host)).toEqual(['a.example', 'b.example', 'c.example']);
      hosts.release('b.example');
      hosts.release('c.example');
      await expect(Promise.all(callers)).resolves.toEqual([PUBLIC, PUBLIC, PUBLIC]);
    });

    it('honours a maxConcurrentLookups option', async () => {
      const { sut, lookup } = makeSut(hangingLookups().answer, { maxConcurrentLookups: 3 });
      for (const host of ['a.example', 'b.example', 'c.example', 'd.example']) void resolveQuietly(sut, host);
      await jest.advanceTimersByTimeAsync(0);
      expect(lookup).toHaveBeenCalledTimes(3);
    });

    it('does not give coalesced callers of one hostname a slot each', async () => {
      const hosts = hangingLookups();
      const { sut, lookup } = makeSut(hosts.answer, { maxConcurrentLookups: 2 });
      for (let i = 0; i < 5; i++) void resolveQuietly(sut, 'a.example');
      void resolveQuietly(sut, 'b.example');
      void resolveQuietly(sut, 'c.example');
      await jest.advanceTimersByTimeAsync(0);
      expect(lookup.mock.calls.map(([host]) => host)).toEqual(['a.example', 'b.example']);
    });

    it('times a queued caller out timeoutMs after its own resolve call, while it still waits for a slot', async () => {
      const { sut, lookup } = makeSut(hangingLookups().answer, { maxConcurrentLookups: 1, timeoutMs: 5_000 });
      void resolveQuietly(sut, 'a.example');
      await jest.advanceTimersByTimeAsync(2_000);
      let settled = false;
      const queued = resolveQuietly(sut, 'b.example').finally(() => (settled = true));
      queued.catch(() => undefined);
      await jest.advanceTimersByTimeAsync(4_999);
      expect(settled).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await expect(queued).rejects.toMatchObject({ code: 'ETIMEOUT', hostname: 'b.example' });
      expect(lookup).toHaveBeenCalledTimes(1);
    });

    it('keeps counting a stranded lookup against the cap until it returns', async () => {
      const hosts = hangingLookups();
      const { sut, lookup } = makeSut(hosts.answer, { maxConcurrentLookups: 1, timeoutMs: 5_000 });
      const first = resolveQuietly(sut, 'a.example');
      await jest.advanceTimersByTimeAsync(5_000);
      await expect(first).rejects.toMatchObject({ code: 'ETIMEOUT' });
      expect(sut.stranded).toBe(1);
      const later = resolveQuietly(sut, 'b.example');
      await jest.advanceTimersByTimeAsync(1_000);
      expect(lookup.mock.calls.map(([host]) => host)).toEqual(['a.example']);
      hosts.release('a.example');
      await jest.advanceTimersByTimeAsync(0);
      expect(sut.stranded).toBe(0);
      expect(lookup.mock.calls.map(([host]) => host)).toEqual(['a.example', 'b.example']);
      hosts.release('b.example');
      await expect(later).resolves.toEqual(PUBLIC);
    });

    it('never starts a queued lookup whose callers have all timed out', async () => {
      const hosts = hangingLookups();
      const { sut, lookup } = makeSut(hosts.answer, { maxConcurrentLookups: 1, timeoutMs: 5_000 });
      const running = resolveQuietly(sut, 'a.example');
      const queued = resolveQuietly(sut, 'b.example');
      await jest.advanceTimersByTimeAsync(5_000);
      await expect(running).rejects.toMatchObject({ code: 'ETIMEOUT' });
      await expect(queued).rejects.toMatchObject({ code: 'ETIMEOUT' });
      // Only the started lookup holds a thread.
      expect({ timeouts: sut.timeouts, stranded: sut.stranded }).toEqual({ timeouts: 2, stranded: 1 });
      hosts.release('a.example');
      await jest.advanceTimersByTimeAsync(0);
      expect(lookup.mock.calls.map(([host]) => host)).toEqual(['a.example']);
      // The slot is free again for the next lookup.
      void resolveQuietly(sut, 'c.example');
      await jest.advanceTimersByTimeAsync(0);
      expect(lookup.mock.calls.map(([host]) => host)).toEqual(['a.example', 'c.example']);
    });

    it.each([0, -1, 1.5, NaN])('refuses maxConcurrentLookups %p', (maxConcurrentLookups) => {
      expect(() => new DnsCache({ maxConcurrentLookups })).toThrow(RangeError);
    });
  });
});

/** guardedLookup's callback as a promise of the values after the error. */
function lookupThrough(lookup: ReturnType<typeof guardedLookup>, hostname: string, all = false): Promise<unknown[]> {
  return new Promise((resolve, reject) => lookup(hostname, { all }, (error, ...values) => (error ? reject(error) : resolve(values))));
}

describe(guardedLookup.name, () => {
  it('refuses a forbidden cached answer on every connection, not only the first', async () => {
    const { sut, lookup } = makeSut(async () => PRIVATE);
    const guarded = guardedLookup({ allowPrivate: false, cache: sut });
    for (let i = 0; i < 2; i++) {
      await expect(lookupThrough(guarded, 'rebound.example')).rejects.toMatchObject({ name: ForbiddenUrlError.name, code: 'url_not_allowed' });
    }
    expect(lookup).toHaveBeenCalledTimes(1);
  });

  it('caches answers, not verdicts: the same cached private answer is allowed where private addresses are', async () => {
    const { sut } = makeSut(async () => PRIVATE);
    await expect(lookupThrough(guardedLookup({ allowPrivate: false, cache: sut }), 'internal.example')).rejects.toThrow(ForbiddenUrlError);
    await expect(lookupThrough(guardedLookup({ allowPrivate: true, cache: sut }), 'internal.example')).resolves.toEqual(['10.1.2.3', 4]);
  });

  it('hands the socket the cached public answer in both callback shapes', async () => {
    const { sut, lookup } = makeSut();
    const guarded = guardedLookup({ allowPrivate: false, cache: sut });
    await expect(lookupThrough(guarded, 'hooks.example')).resolves.toEqual(['93.184.216.34', 4]);
    await expect(lookupThrough(guarded, 'hooks.example', true)).resolves.toEqual([PUBLIC]);
    expect(lookup).toHaveBeenCalledTimes(1);
  });

  it.each(['ENOTFOUND', 'EAI_AGAIN'])('passes a %s failure through with its code, as a network error rather than a refusal', async (code) => {
    const { sut } = makeSut(async (host) => Promise.reject(dnsError(code, host)));
    const error = await lookupThrough(guardedLookup({ allowPrivate: false, cache: sut }), 'gone.example').catch((e: unknown) => e);
    expect(error).toMatchObject({ code });
    expect(error).not.toBeInstanceOf(ForbiddenUrlError);
  });

  it('reports a lookup that does not answer in time as ETIMEOUT', async () => {
    const { sut } = makeSut(() => new Promise(() => undefined), { timeoutMs: 1 });
    await expect(lookupThrough(guardedLookup({ allowPrivate: false, cache: sut }), 'hung.example')).rejects.toMatchObject({ code: 'ETIMEOUT' });
  });
});
