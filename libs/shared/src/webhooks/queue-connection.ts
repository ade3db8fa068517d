import type { RedisOptions } from 'ioredis';
import { redisOptions } from '../redis/redis-connection';

/**
 * Producers fail fast while Redis is down (no offline queue): a request never hangs on Redis,
 * and the delivery row stays due in PostgreSQL for the sweeper.
 */
export function producerConnection(url: string): RedisOptions {
  return redisOptions(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
}

/** Consumers wait and reconnect for as long as it takes (BullMQ requires maxRetriesPerRequest: null). */
export function consumerConnection(url: string): RedisOptions {
  return redisOptions(url, { maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(times * 200, 2_000) });
}
