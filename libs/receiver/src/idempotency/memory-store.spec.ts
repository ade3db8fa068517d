import { MemoryIdempotencyStore } from './memory-store.js';

function makeSut(maxEntries?: number) {
  const clock = { now: 1_000_000 };
  const sut = new MemoryIdempotencyStore({ now: () => clock.now, maxEntries });
  return { sut, clock };
}

describe(MemoryIdempotencyStore.name, () => {
  it('claims a new key once and reports it in flight to a second claim', async () => {
    const { sut } = makeSut();

    const first = await sut.claim('k', 60_000);
    const second = await sut.claim('k', 60_000);

    expect(first.state).toBe('claimed');
    expect(second).toEqual({ state: 'in_flight', retryAfterMs: 60_000 });
  });

  it('reports a completed key as completed until its TTL passes', async () => {
    const { sut, clock } = makeSut();
    const claim = await sut.claim('k', 60_000);
    if (claim.state !== 'claimed') throw new Error('expected a claim');

    await sut.complete('k', claim.token, 1000);

    await expect(sut.claim('k', 60_000)).resolves.toEqual({ state: 'completed' });
    clock.now += 1000;
    await expect(sut.claim('k', 60_000)).resolves.toMatchObject({ state: 'claimed' });
  });

  it('lets the next claim run after a release', async () => {
    const { sut } = makeSut();
    const claim = await sut.claim('k', 60_000);
    if (claim.state !== 'claimed') throw new Error('expected a claim');

    await sut.release('k', claim.token);

    await expect(sut.claim('k', 60_000)).resolves.toMatchObject({ state: 'claimed' });
  });

  it('lets a claim abandoned by a crashed handler expire', async () => {
    const { sut, clock } = makeSut();
    await sut.claim('k', 60_000);

    clock.now += 60_000;

    await expect(sut.claim('k', 60_000)).resolves.toMatchObject({ state: 'claimed' });
  });

  it('ignores complete and release from a claim that expired and was taken over', async () => {
    const { sut, clock } = makeSut();
    const stale = await sut.claim('k', 1000);
    clock.now += 1000;
    const fresh = await sut.claim('k', 60_000);
    if (stale.state !== 'claimed' || fresh.state !== 'claimed') throw new Error('expected claims');

    await sut.complete('k', stale.token, 60_000);
    await sut.release('k', stale.token);

    await expect(sut.claim('k', 60_000)).resolves.toMatchObject({ state: 'in_flight' });
  });

  it('keeps an extended claim in flight past its first TTL, but not for a stale token', async () => {
    const { sut, clock } = makeSut();
    const claim = await sut.claim('k', 1000);
    if (claim.state !== 'claimed') throw new Error('expected a claim');

    clock.now += 900;
    await sut.extend('k', claim.token, 1000);
    await sut.extend('k', 'stale', 60_000);
    clock.now += 900;

    await expect(sut.claim('k', 1000)).resolves.toEqual({ state: 'in_flight', retryAfterMs: 100 });
  });

  it('drops the oldest keys beyond maxEntries', async () => {
    const { sut } = makeSut(2);

    await sut.claim('a', 60_000);
    await sut.claim('b', 60_000);
    await sut.claim('c', 60_000);

    expect(sut.size).toBe(2);
    await expect(sut.claim('a', 60_000)).resolves.toMatchObject({ state: 'claimed' });
    await expect(sut.claim('c', 60_000)).resolves.toMatchObject({ state: 'in_flight' });
  });
});
