import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { RedisIdempotencyStore } from './redis-store.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe(RedisIdempotencyStore.name, () => {
  const prefix = `test:receiver:${randomUUID()}:`;
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  function makeSut() {
    return new RedisIdempotencyStore({ client: redis, keyPrefix: prefix });
  }

  it('claims with SET NX PX and reports a second claim in flight with the remaining TTL', async () => {
    const sut = makeSut();

    const first = await sut.claim('a', 60_000);
    const second = await sut.claim('a', 60_000);

    expect(first.state).toBe('claimed');
    expect(second.state).toBe('in_flight');
    expect(second.state === 'in_flight' && second.retryAfterMs).toBeGreaterThan(50_000);
    const ttl = await redis.pttl(`${prefix}a`);
    expect(ttl).toBeGreaterThan(50_000);
  });

  it('lets exactly one of many concurrent claims win', async () => {
    const sut = makeSut();

    const results = await Promise.all(Array.from({ length: 20 }, () => sut.claim('race', 60_000)));

    expect(results.filter((r) => r.state === 'claimed')).toHaveLength(1);
  });

  it('keeps a completed key for the completed TTL and answers completed', async () => {
    const sut = makeSut();
    const claim = await sut.claim('b', 60_000);
    if (claim.state !== 'claimed') throw new Error('expected a claim');

    await sut.complete('b', claim.token, 7 * 24 * 3600_000);

    await expect(sut.claim('b', 60_000)).resolves.toEqual({ state: 'completed' });
    expect(await redis.pttl(`${prefix}b`)).toBeGreaterThan(6 * 24 * 3600_000);
  });

  it('releases a failed claim so the retry can claim it', async () => {
    const sut = makeSut();
    const claim = await sut.claim('c', 60_000);
    if (claim.state !== 'claimed') throw new Error('expected a claim');

    await sut.release('c', claim.token);

    await expect(sut.claim('c', 60_000)).resolves.toMatchObject({ state: 'claimed' });
  });

  it('does not let a stale token complete or release a key another request now holds', async () => {
    const sut = makeSut();
    const stale = await sut.claim('d', 60_000);
    await redis.del(`${prefix}d`); // the stale claim expired
    const fresh = await sut.claim('d', 60_000);
    if (stale.state !== 'claimed' || fresh.state !== 'claimed') throw new Error('expected claims');

    await sut.complete('d', stale.token, 60_000);
    await sut.release('d', stale.token);

    await expect(sut.claim('d', 60_000)).resolves.toMatchObject({ state: 'in_flight' });
  });

  it('extends a claim still held with its token, and ignores a stale token', async () => {
    const sut = makeSut();
    const claim = await sut.claim('x', 1_000);
    if (claim.state !== 'claimed') throw new Error('expected a claim');

    await sut.extend('x', claim.token, 60_000);
    await sut.extend('x', 'stale', 5);

    expect(await redis.pttl(`${prefix}x`)).toBeGreaterThan(50_000);
  });

  it('works with a node-redis style client exposing sendCommand', async () => {
    const nodeRedisLike = { sendCommand: (args: string[]) => redis.call(args[0]!, ...args.slice(1)) };
    const sut = new RedisIdempotencyStore({ client: nodeRedisLike, keyPrefix: prefix });

    await expect(sut.claim('e', 60_000)).resolves.toMatchObject({ state: 'claimed' });
    await expect(sut.claim('e', 60_000)).resolves.toMatchObject({ state: 'in_flight' });
  });

  it('refuses to be built without a client', () => {
    expect(() => new RedisIdempotencyStore({ client: {} as never })).toThrow(TypeError);
  });
});
