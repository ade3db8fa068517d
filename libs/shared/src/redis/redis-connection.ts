import Redis, { RedisOptions } from 'ioredis';
import { ServiceUnavailableError } from '../startup/service-unavailable.error';

/** ioredis options from REDIS_URL. BullMQ requires maxRetriesPerRequest: null on worker connections. */
export function redisOptions(url: string, overrides: RedisOptions = {}): RedisOptions {
  const parsed = new URL(url);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: Number(parsed.port || 6379),
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    ...overrides,
  };
}

/** Fails fast with a one-line message when Redis does not answer a PING. */
export async function assertRedisReachable(url: string): Promise<void> {
  const client = new Redis({ ...redisOptions(url), lazyConnect: true, connectTimeout: 3_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw ServiceUnavailableError.redis(url, error);
  } finally {
    client.disconnect();
  }
}
