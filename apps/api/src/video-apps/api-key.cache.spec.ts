import { ApiKeyCache, VerifiedKey } from './api-key.cache';

const alpha: VerifiedKey = { keyId: 'key-alpha', appId: 'app-1' };
const beta: VerifiedKey = { keyId: 'key-beta', appId: 'app-1' };

function makeCache(): { sut: ApiKeyCache; advance: (ms: number) => void } {
  let now = 10_000;
  const sut = new ApiKeyCache(() => now, { revocationBoundMs: 1_000, entryTtlMs: 60_000, maxEntries: 3 });
  return { sut, advance: (ms) => (now += ms) };
}

/** A lookup that found `key` active, cached as the verification service does. */
function verified(sut: ApiKeyCache, digest: string, key: VerifiedKey): void {
  sut.put(digest, key, sut.beginLookup());
}

describe(ApiKeyCache.name, () => {
  it('trusts a key for the whole entry lifetime while revocation polls keep answering', () => {
    const { sut, advance } = makeCache();
    sut.confirm(0, 10_000);
    verified(sut, 'a', alpha);
    for (let t = 0; t < 50; t++) {
      advance(500);
      sut.confirm(0, 10_000 + (t + 1) * 500);
      expect(sut.get('a')).toEqual(alpha);
    }
  });

  it('stops trusting a key 1 s after the last answered poll was sent, then only for 1 s after each lookup', () => {
    const { sut, advance } = makeCache();
    sut.confirm(0, 10_000);
    advance(300);
    verified(sut, 'a', alpha);
    advance(699);
    expect(sut.get('a')).toEqual(alpha);
    advance(2);
    // 1,001 ms since the poll, 701 ms since the lookup: still within the lookup's own second.
    expect(sut.get('a')).toEqual(alpha);
    advance(300);
    expect(sut.get('a')).toBeUndefined();
    verified(sut, 'a', alpha);
    expect(sut.get('a')).toEqual(alpha);
  });

  it('evicts an announced revocation at once and keeps the other keys', () => {
    const { sut } = makeCache();
    sut.confirm(4, 10_000);
    verified(sut, 'a', alpha);
    verified(sut, 'b', beta);
    sut.evict(alpha.keyId, 5);
    expect(sut.get('a')).toBeUndefined();
    expect(sut.get('b')).toEqual(beta);
    sut.confirm(5, 10_000);
    expect(sut.get('b')).toEqual(beta);
  });

  it('clears every key when the poll shows a revocation that was not announced', () => {
    const { sut } = makeCache();
    sut.confirm(4, 10_000);
    verified(sut, 'a', alpha);
    verified(sut, 'b', beta);
    sut.evict(alpha.keyId, 5);
    sut.confirm(6, 10_000);
    expect(sut.get('b')).toBeUndefined();
    expect(sut.size).toBe(0);
  });

  it('clears every key on the first poll, which cannot know what was revoked before it', () => {
    const { sut } = makeCache();
    verified(sut, 'a', alpha);
    sut.confirm(7, 10_000);
    expect(sut.get('a')).toBeUndefined();
  });

  it('does not cache a lookup that was in flight while a key was evicted', () => {
    const { sut } = makeCache();
    sut.confirm(0, 10_000);
    const ticket = sut.beginLookup();
    sut.evict(alpha.keyId, 1);
    sut.put('a', alpha, ticket);
    expect(sut.get('a')).toBeUndefined();
  });

  it('forgets keys past their lifetime and the oldest one when full', () => {
    const { sut, advance } = makeCache();
    sut.confirm(0, 10_000);
    verified(sut, 'a', alpha);
    verified(sut, 'b', beta);
    verified(sut, 'c', { keyId: 'c', appId: 'app-2' });
    verified(sut, 'd', { keyId: 'd', appId: 'app-2' });
    expect(sut.get('a')).toBeUndefined();
    expect(sut.size).toBe(3);
    advance(60_001);
    sut.confirm(0, 10_000 + 60_001);
    expect(sut.get('b')).toBeUndefined();
  });
});
