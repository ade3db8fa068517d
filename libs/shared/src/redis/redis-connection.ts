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

/**
 * Warnings about a Redis that would evict or forget queued jobs. Nothing is lost either way
 * (PostgreSQL is the truth and the sweeper re-queues), but deliveries would be late.
 */
export async function redisDurabilityWarnings(url: string): Promise<string[]> {
  const client = new Redis({ ...redisOptions(url), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  const warnings: string[] = [];
  try {
    await client.connect();
    const [, policy] = (await client.config('GET', 'maxmemory-policy')) as [string, string];
    if (policy && policy !== 'noeviction') {
      warnings.push(`Redis maxmemory-policy is "${policy}": under memory pressure it may evict queued jobs. Set it to noeviction.`);
    }
    const [, appendonly] = (await client.config('GET', 'appendonly')) as [string, string];
    const [, save] = (await client.config('GET', 'save')) as [string, string];
    if (appendonly !== 'yes' && !save) {
      warnings.push('Redis keeps nothing on disk (no AOF, no RDB): a restart empties the queue; the sweeper re-queues due deliveries from PostgreSQL, so they are late, not lost.');
    }
  } catch {
    // CONFIG is often disabled on managed Redis: nothing to say then.
  } finally {
    client.disconnect();
  }
  return warnings;
}
