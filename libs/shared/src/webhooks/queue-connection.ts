import { createRedisClient, RedisClient, RedisClientOptions } from '../redis/redis-connection';

/**
 * Producers fail fast while Redis is down (no offline queue): a request never hangs on Redis,
 * and the delivery row stays due in PostgreSQL for the sweeper.
 */
export function producerConnection(url: string): RedisClient {
  return createRedisClient(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
}

/**
 * Consumers and subscribers wait and reconnect for as long as it takes (BullMQ requires
 * maxRetriesPerRequest: null on a worker's connections). A BullMQ Worker given this client makes
 * its own copies (`duplicate()`) and leaves the original alone, hence `lazyConnect` for that use.
 */
export function consumerConnection(url: string, options: Pick<RedisClientOptions, 'lazyConnect'> = {}): RedisClient {
  return createRedisClient(url, { maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(times * 200, 2_000), ...options });
}
