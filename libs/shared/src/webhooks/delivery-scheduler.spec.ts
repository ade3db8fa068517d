import { randomBytes, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { createRedisClient } from '../redis/redis-connection';
import { DeliveryScheduler, LaneOffer } from './delivery-scheduler';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const LEASE_MS = 30_000;

/** Against the real Redis, each test under its own key prefix. */
describe(DeliveryScheduler.name, () => {
  let sut: DeliveryScheduler;
  let redis: Redis;
  let prefix: string;

  beforeEach(async () => {
    prefix = `scw-test-scheduler-${randomBytes(4).toString('hex')}`;
    sut = new DeliveryScheduler(createRedisClient(REDIS_URL), prefix);
    redis = new Redis(REDIS_URL);
    await sut.register('worker-1', 10);
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    sut.onApplicationShutdown();
  });

  const offers = (subscriptionId: string, n: number, extra: Partial<LaneOffer> = {}): LaneOffer[] =>
    Array.from({ length: n }, (_, i) => ({ subscriptionId, deliveryId: randomUUID(), dueAt: 1_000 + i, ...extra }));
  const take = (want: number, releases: Array<{ subscriptionId: string; token: string }> = []) => sut.cycle('worker-1', want, LEASE_MS, releases);

  it('hands out deliveries round-robin, so a backlog does not delay another subscription', async () => {
    await sut.offer(offers('backlog', 100));
    await sut.offer(offers('quiet', 1));
    const { taken } = await take(2);
    expect(taken.map((t) => t.subscriptionId).sort()).toEqual(['backlog', 'quiet']);
  });

  it('keeps a lane in due order and adds a delivery once however often it is offered', async () => {
    const lane = offers('a', 3).reverse();
    expect(await sut.offer(lane)).toBe(3);
    expect(await sut.offer(lane)).toBe(0);
    const { taken } = await take(10);
    expect(taken.map((t) => t.deliveryId)).toEqual(lane.map((o) => o.deliveryId).reverse());
    expect((await take(10)).taken).toHaveLength(0);
  });

  it('gives a subscription alone the whole capacity less the reserve, and a newcomer a slot at once', async () => {
    await sut.offer(offers('busy', 50));
    expect((await take(10)).taken).toHaveLength(9); // 10 slots, 1 kept in reserve
    await sut.offer(offers('newcomer', 1));
    const { taken } = await take(10);
    expect(taken.map((t) => t.subscriptionId)).toEqual(['newcomer']);
  });

  it('splits the capacity among the subscriptions with work, counting slots across workers', async () => {
    await sut.register('worker-2', 10); // 20 slots in all, 1 in reserve: 9 each for two busy subscriptions
    await sut.offer(offers('a', 50));
    await sut.offer(offers('b', 50));
    const first = await take(10);
    const second = await sut.cycle('worker-2', 10, LEASE_MS, []);
    const all = [...first.taken, ...second.taken];
    expect(all.filter((t) => t.subscriptionId === 'a')).toHaveLength(9);
    expect(all.filter((t) => t.subscriptionId === 'b')).toHaveLength(9);
    // A released slot goes back to its subscription's share.
    const again = await take(10, [first.taken[0]]);
    expect(again.taken.map((t) => t.subscriptionId)).toEqual([first.taken[0].subscriptionId]);
  });

  it('frees the slots of a worker whose lease ran out (it died mid-attempt)', async () => {
    await sut.offer(offers('a', 20));
    const { taken } = await take(10);
    expect(taken).toHaveLength(9);
    expect((await take(10)).taken).toHaveLength(0);
    // The leases run on Redis's clock: rather than wait for it, the test moves their expiry into the past.
    const slots = `${prefix}:{fair}:slots:a`;
    expect(await redis.zcard(slots)).toBe(9);
    for (const t of taken) expect(await redis.zadd(slots, 'XX', 'CH', 1, t.token)).toBe(1);
    expect((await take(10)).taken).toHaveLength(9);
  });

  it('lets nothing through an open circuit, then exactly one probe, then everything once closed', async () => {
    await sut.offer(offers('dead', 5));
    await sut.setCircuit('dead', new Date(Date.now() + 60_000));
    const blocked = await take(10);
    expect(blocked.taken).toHaveLength(0);
    expect(blocked.wakeAt).toBeGreaterThan(blocked.now + 50_000);

    await sut.setCircuit('dead', new Date(Date.now() - 1)); // cool-down over: half open
    const probe = await take(10);
    expect(probe.taken).toHaveLength(1);
    expect((await take(10)).taken).toHaveLength(0);

    await sut.setCircuit('dead', null);
    expect((await take(10, probe.taken)).taken).toHaveLength(4);
  });

  it('allows another probe when the probe ended without an outcome', async () => {
    await sut.offer(offers('dead', 3));
    await sut.setCircuit('dead', new Date(Date.now() - 1));
    const probe = await take(10);
    expect(probe.taken).toHaveLength(1);
    const next = await take(10, probe.taken);
    expect(next.taken).toHaveLength(1);
  });

  it('does not let the sweep overwrite a circuit a worker holds', async () => {
    await sut.offer(offers('dead', 3));
    await sut.setCircuit('dead', new Date(Date.now() - 1));
    await take(10); // the probe is in flight
    await sut.setCircuit('dead', new Date(Date.now() - 1), 'mirror');
    expect((await take(10)).taken).toHaveLength(0);
  });

  it('spaces a rate-limited subscription and says when it may go again', async () => {
    await sut.offer(offers('limited', 5, { rateLimitPerSecond: 10 }));
    const first = await take(10);
    expect(first.taken).toHaveLength(1);
    expect(first.wakeAt! - first.now).toBeGreaterThan(50);
    expect(first.wakeAt! - first.now).toBeLessThanOrEqual(100);
    expect((await take(10)).taken).toHaveLength(0);
    await sut.setRateLimit('limited', null);
    await new Promise((resolve) => setTimeout(resolve, 110));
    expect((await take(10)).taken).toHaveLength(4);
  });
});
