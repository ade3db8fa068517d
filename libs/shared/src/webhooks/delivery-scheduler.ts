import type { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { RedisClient, whenReady } from '../redis/redis-connection';

/**
 * The fair scheduler of deliveries (SPEC §3, isolation), shared by every worker through Redis.
 *
 * Each subscription has a lane: the due deliveries waiting for a slot, deduplicated by id. Workers
 * take work round-robin across the subscriptions that have some, one delivery per subscription per
 * turn, so a subscription with 5,000 waiting deliveries gets one turn like one with a single
 * delivery: nothing queues behind another subscription's backlog. A subscription holds at most its
 * fair share of the global capacity (the sum of the live workers' slots, less a small reserve kept
 * free for newcomers), counted in Redis across all workers, so slow or hanging endpoints cannot
 * take every slot. The share is the whole capacity (less the reserve) when a subscription is alone.
 * A subscription whose circuit is open, or that is ahead of its rate limit, sleeps out of the
 * round until its time comes; its deliveries keep their place, status and attempt count.
 *
 * Redis holds only wake-ups: PostgreSQL stays the truth (a delivery is claimed there before it is
 * sent), and the sweeper offers every due delivery again if Redis forgets them.
 *
 * Keys, all under `<prefix>:{fair}`. Every script gets that base as its one declared key (KEYS[1])
 * and builds the others from it, which a Redis Cluster allows only within the declared key's slot:
 * a key's slot is its first hash tag, so all of them share one slot, the prefix's on a cluster
 * (`{scw}:{fair}:...`, the config puts a tag in the prefix there), `{fair}`'s on a single server
 * (`scw:{fair}:...`, names as they always were). Never build a key that does not start with base.
 *   ring       LIST  subscriptions with waiting deliveries, in round-robin order
 *   members    SET   subscriptions in `ring` or `sleeping` (an offer adds a subscription once)
 *   sleeping   ZSET  subscription -> when to put it back in the ring (circuit open, rate limit)
 *   lane:<s>   ZSET  delivery id -> due time (ms), oldest first
 *   slots:<s>  ZSET  slot token -> lease expiry (ms): the deliveries of <s> in flight, all workers
 *   circuit:<s> HASH until (ms), probe (token), probe_until (ms): mirror of an open circuit
 *   conf:<s>   HASH  rate (deliveries per second)
 *   rate:<s>   STRING the rate limit's next allowed time (ms)
 *   workers    ZSET  worker id -> heartbeat expiry; capacity HASH worker id -> slots
 *   wake       pub/sub channel: deliveries were offered
 */

/** The share of the global capacity no single subscription may take, so a newcomer finds a slot at once. */
export const FAIR_RESERVE_RATIO = 0.05;
/** Subscriptions a take looks at without finding work before it gives up (bounds the script's time). */
const MAX_SCAN = 256;
const WORKER_TTL_MS = 5_000;

const KEY_FUNCTIONS = `
local base = KEYS[1]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

const OFFER = `${KEY_FUNCTIONS}
local added = 0
for i = 1, #ARGV, 4 do
  local sub, id, score, rate = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  added = added + redis.call('ZADD', base .. ':lane:' .. sub, 'NX', score, id)
  if rate == '0' then redis.call('HDEL', base .. ':conf:' .. sub, 'rate')
  elseif rate ~= '' then redis.call('HSET', base .. ':conf:' .. sub, 'rate', rate) end
  if redis.call('SADD', base .. ':members', sub) == 1 then redis.call('RPUSH', base .. ':ring', sub) end
end
if added > 0 then redis.call('PUBLISH', base .. ':wake', added) end
return added
`;

// ARGV: worker id, want, lease ms, reserve ratio, max scan, then (subscription, token) pairs to release.
const CYCLE = `${KEY_FUNCTIONS}
local worker, want, lease, ratio, max_scan = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local now = now_ms()
local ring, sleeping = base .. ':ring', base .. ':sleeping'
for i = 6, #ARGV, 2 do
  local sub, token = ARGV[i], ARGV[i + 1]
  redis.call('ZREM', base .. ':slots:' .. sub, token)
  if redis.call('HGET', base .. ':circuit:' .. sub, 'probe') == token then
    -- The probe ended without an outcome (its delivery was not claimable): another may go now.
    redis.call('HDEL', base .. ':circuit:' .. sub, 'probe', 'probe_until')
    if redis.call('ZREM', base .. ':sleeping', sub) == 1 then redis.call('RPUSH', base .. ':ring', sub) end
  end
end
local out = {}
if want > 0 then
  for _, sub in ipairs(redis.call('ZRANGEBYSCORE', sleeping, '-inf', now, 'LIMIT', 0, 100)) do
    redis.call('ZREM', sleeping, sub)
    redis.call('RPUSH', ring, sub)
  end
  local gone = redis.call('ZRANGEBYSCORE', base .. ':workers', '-inf', now)
  for _, w in ipairs(gone) do
    redis.call('ZREM', base .. ':workers', w)
    redis.call('HDEL', base .. ':capacity', w)
  end
  local total = 0
  for _, c in ipairs(redis.call('HVALS', base .. ':capacity')) do total = total + tonumber(c) end
  if total < want then total = want end
  local reserve = 0
  if total > 1 then reserve = math.max(1, math.ceil(total * ratio)) end
  local n = redis.call('LLEN', ring)
  local share = math.max(1, math.floor((total - reserve) / math.max(1, n)))
  local taken, misses, scanned = 0, 0, 0
  while taken < want and n > 0 and misses < n and scanned < max_scan + want do
    scanned = scanned + 1
    local sub = redis.call('LMOVE', ring, ring, 'LEFT', 'RIGHT')
    local lane = base .. ':lane:' .. sub
    local head = redis.call('ZRANGE', lane, 0, 0)
    if #head == 0 then
      redis.call('RPOP', ring)
      redis.call('SREM', base .. ':members', sub)
      n = n - 1
    else
      local sleep_until = nil
      local probing = false
      local circuit = base .. ':circuit:' .. sub
      local c = redis.call('HMGET', circuit, 'until', 'probe_until')
      if c[1] then
        local u, p = tonumber(c[1]), tonumber(c[2] or '0')
        if u > now then sleep_until = u
        elseif p > now then sleep_until = p
        else probing = true end
      end
      local slots = base .. ':slots:' .. sub
      if not sleep_until then
        redis.call('ZREMRANGEBYSCORE', slots, '-inf', now)
        local limit = share
        if probing then limit = 1 end
        if redis.call('ZCARD', slots) >= limit then
          misses = misses + 1
        else
          local rate = tonumber(redis.call('HGET', base .. ':conf:' .. sub, 'rate') or '0')
          if rate > 0 then
            local interval = 1000 / rate
            local tat = tonumber(redis.call('GET', base .. ':rate:' .. sub) or '0')
            if tat > now then
              sleep_until = tat
            else
              -- Stay on the grid when only a little late (a timer's jitter), so the long-run rate is exact.
              local next_tat = now + interval
              if now - tat < interval then next_tat = tat + interval end
              redis.call('SET', base .. ':rate:' .. sub, tostring(next_tat), 'PX', math.ceil(interval * 2 + 1000))
            end
          end
          if not sleep_until then
            local id = head[1]
            redis.call('ZREM', lane, id)
            local token = worker .. ':' .. id .. ':' .. now
            redis.call('ZADD', slots, now + lease, token)
            if probing then redis.call('HSET', circuit, 'probe', token, 'probe_until', now + lease) end
            out[#out + 1] = sub
            out[#out + 1] = id
            out[#out + 1] = token
            taken = taken + 1
            misses = 0
          end
        end
      end
      if sleep_until then
        redis.call('RPOP', ring)
        redis.call('ZADD', sleeping, sleep_until, sub)
        n = n - 1
      end
    end
  end
end
local first = redis.call('ZRANGE', sleeping, 0, 0, 'WITHSCORES')
local wake_at = -1
if #first == 2 then wake_at = tonumber(first[2]) end
table.insert(out, 1, wake_at)
table.insert(out, 2, now)
return out
`;

// ARGV: subscription, until ms ('' closes), mode ('set' from an outcome, 'mirror' from the sweep: only when absent).
const CIRCUIT = `${KEY_FUNCTIONS}
local sub, until_ms, mode = ARGV[1], ARGV[2], ARGV[3]
local circuit = base .. ':circuit:' .. sub
if until_ms == '' then
  redis.call('DEL', circuit)
  if redis.call('ZREM', base .. ':sleeping', sub) == 1 then
    redis.call('RPUSH', base .. ':ring', sub)
    redis.call('PUBLISH', base .. ':wake', 1)
  end
  return 1
end
if mode == 'mirror' and redis.call('EXISTS', circuit) == 1 then return 0 end
redis.call('DEL', circuit)
redis.call('HSET', circuit, 'until', until_ms)
-- A sleeping subscription wakes when the circuit says, not at whatever time it went to sleep for.
if tonumber(until_ms) <= now_ms() then
  if redis.call('ZREM', base .. ':sleeping', sub) == 1 then redis.call('RPUSH', base .. ':ring', sub) end
else
  redis.call('ZADD', base .. ':sleeping', 'XX', until_ms, sub)
end
return 1
`;

const REGISTER = `${KEY_FUNCTIONS}
local id, capacity, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
if capacity == '0' then
  redis.call('ZREM', base .. ':workers', id)
  redis.call('HDEL', base .. ':capacity', id)
  return 0
end
redis.call('ZADD', base .. ':workers', now_ms() + ttl, id)
redis.call('HSET', base .. ':capacity', id, capacity)
return 1
`;

const STATS = `${KEY_FUNCTIONS}
local subs = redis.call('SMEMBERS', base .. ':members')
local waiting = 0
for _, sub in ipairs(subs) do waiting = waiting + redis.call('ZCARD', base .. ':lane:' .. sub) end
return { #subs, redis.call('LLEN', base .. ':ring'), redis.call('ZCARD', base .. ':sleeping'), waiting }
`;

/** A due delivery offered to its subscription's lane. */
export interface LaneOffer {
  subscriptionId: string;
  deliveryId: string;
  /** Due time (ms): the lane's order. */
  dueAt: number;
  /** The subscription's rate limit: a number, null for none, undefined to leave it as it is. */
  rateLimitPerSecond?: number | null;
}

/** A delivery a worker took: it holds one of its subscription's slots until it releases the token. */
export interface TakenDelivery {
  subscriptionId: string;
  deliveryId: string;
  token: string;
}

export interface CycleResult {
  taken: TakenDelivery[];
  /** When a sleeping subscription is due back (ms, Redis clock), or null. */
  wakeAt: number | null;
  /** Redis's clock (ms) at the take, to turn wakeAt into a delay. */
  now: number;
}

export interface SchedulerStats {
  subscriptions: number;
  ready: number;
  sleeping: number;
  waiting: number;
}

type ScriptRedis = RedisClient & {
  schedulerOffer(base: string, ...args: string[]): Promise<number>;
  schedulerCycle(base: string, ...args: string[]): Promise<Array<string | number>>;
  schedulerCircuit(base: string, ...args: string[]): Promise<number>;
  schedulerRegister(base: string, ...args: string[]): Promise<number>;
  schedulerStats(base: string): Promise<number[]>;
};

const OFFER_CHUNK = 500;
const READY_WAIT_MS = 5_000;

export class DeliveryScheduler implements OnModuleInit, OnApplicationShutdown {
  readonly base: string;
  private readonly redis: ScriptRedis;
  /** Called after this process offered deliveries: its own workers need not wait for the pub/sub echo. */
  private readonly localListeners: Array<() => void> = [];

  /** Takes `redis` over (it disconnects it at shutdown): a producer connection, that fails fast while Redis is away. */
  constructor(redis: RedisClient, queuePrefix: string) {
    this.base = `${queuePrefix}:{fair}`;
    this.redis = redis as ScriptRedis;
    this.redis.on('error', () => undefined); // callers see failed commands; the client reconnects by itself
    this.redis.defineCommand('schedulerOffer', { numberOfKeys: 1, lua: OFFER });
    this.redis.defineCommand('schedulerCycle', { numberOfKeys: 1, lua: CYCLE });
    this.redis.defineCommand('schedulerCircuit', { numberOfKeys: 1, lua: CIRCUIT });
    this.redis.defineCommand('schedulerRegister', { numberOfKeys: 1, lua: REGISTER });
    this.redis.defineCommand('schedulerStats', { numberOfKeys: 1, lua: STATS });
  }

  get wakeChannel(): string {
    return `${this.base}:wake`;
  }

  /** Adds due deliveries to their lanes (a delivery already waiting keeps its place); returns how many were new. */
  async offer(offers: LaneOffer[]): Promise<number> {
    let added = 0;
    for (let i = 0; i < offers.length; i += OFFER_CHUNK) {
      const args = offers
        .slice(i, i + OFFER_CHUNK)
        .flatMap((o) => [
          o.subscriptionId,
          o.deliveryId,
          String(Math.round(o.dueAt)),
          o.rateLimitPerSecond === undefined ? '' : o.rateLimitPerSecond === null ? '0' : String(o.rateLimitPerSecond),
        ]);
      added += await this.redis.schedulerOffer(this.base, ...args);
    }
    if (added > 0) for (const listener of this.localListeners) listener();
    return added;
  }

  /** Releases the slots of finished deliveries and takes up to `want` new ones, fairly. */
  async cycle(workerId: string, want: number, leaseMs: number, releases: Array<{ subscriptionId: string; token: string }>): Promise<CycleResult> {
    const reply = await this.redis.schedulerCycle(
      this.base,
      workerId,
      String(want),
      String(leaseMs),
      String(FAIR_RESERVE_RATIO),
      String(MAX_SCAN),
      ...releases.flatMap((r) => [r.subscriptionId, r.token]),
    );
    const taken: TakenDelivery[] = [];
    for (let i = 2; i + 2 < reply.length; i += 3) {
      taken.push({ subscriptionId: String(reply[i]), deliveryId: String(reply[i + 1]), token: String(reply[i + 2]) });
    }
    const wakeAt = Number(reply[0]);
    return { taken, wakeAt: wakeAt >= 0 ? wakeAt : null, now: Number(reply[1]) };
  }

  /** Mirrors a circuit: open until `until`, or closed (null), which puts its subscription back in the round. */
  async setCircuit(subscriptionId: string, until: Date | null, mode: 'set' | 'mirror' = 'set'): Promise<void> {
    await this.redis.schedulerCircuit(this.base, subscriptionId, until ? String(until.getTime()) : '', mode);
  }

  /** A subscription's rate limit as the scheduler applies it (null: none); offers refresh it too. */
  async setRateLimit(subscriptionId: string, perSecond: number | null): Promise<void> {
    const key = `${this.base}:conf:${subscriptionId}`;
    if (perSecond === null) await this.redis.hdel(key, 'rate');
    else await this.redis.hset(key, 'rate', String(perSecond));
  }

  /** Announces (or, with capacity 0, withdraws) a worker's slots; the fair share is computed from the live ones. */
  async register(workerId: string, capacity: number): Promise<void> {
    await this.redis.schedulerRegister(this.base, workerId, String(capacity), String(WORKER_TTL_MS));
  }

  async stats(): Promise<SchedulerStats> {
    const [subscriptions, ready, sleeping, waiting] = await this.redis.schedulerStats(this.base);
    return { subscriptions, ready, sleeping, waiting };
  }

  /**
   * Subscribes `subscriber` (a connection of its own, with an offline queue, which the caller
   * disconnects) to the wake channel: `onWake` runs on every offer anywhere (and at once for this
   * process's own). On a cluster the PUBLISH reaches every node, so any node will do.
   */
  subscribe(subscriber: RedisClient, onWake: () => void): RedisClient {
    this.localListeners.push(onWake);
    subscriber.on('error', () => undefined);
    subscriber.on('message', () => onWake());
    // Re-subscribes after a reconnect by itself (autoResubscribe); a wake-up lost meanwhile is caught by the poll.
    void subscriber.subscribe(this.wakeChannel).catch(() => undefined);
    return subscriber;
  }

  /**
   * The connection fails commands fast until it is ready (a cluster client first learns the slots
   * of every node): the app starts after it is, so a worker's first registration and the API's first
   * offers are not lost to the connecting. Never waits more than a few seconds (Redis down: the
   * callers cope with failing commands).
   */
  async onModuleInit(): Promise<void> {
    await whenReady(this.redis, READY_WAIT_MS);
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}
