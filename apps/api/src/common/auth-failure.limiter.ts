import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createRedisClient, RedisClient } from '@app/shared/redis/redis-connection';
import { API_CONFIG } from '../config/api-config.module';
import type { ApiConfig } from '../config/api-config';

/** Who failed to authenticate: the connection's address, and the key prefix presented, if any. */
export interface AuthClient {
  address: string;
  keyPrefix: string | null;
}

// KEYS: the client's counters. ARGV: limit, window (ms). Returns the ms until every counter over
// the limit has expired, or 0.
const CHECK = `
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local wait = 0
for i = 1, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= limit then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl < 0 then ttl = window end
    if ttl > wait then wait = ttl end
  end
end
return wait
`;

// KEYS: the client's counters. ARGV: window (ms). A counter's window starts at its first failure.
const RECORD = `
for i = 1, #KEYS do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
end
return 0
`;

type LimiterRedis = RedisClient & {
  authFailuresCheck(count: number, ...keysAndArgs: string[]): Promise<number>;
  authFailuresRecord(count: number, ...keysAndArgs: string[]): Promise<number>;
};

/**
 * Failed authentication is rate-limited per client (SPEC §4): failures are counted in Redis per
 * client address and per presented key prefix, in fixed windows that start at the first failure,
 * shared by every API process. A client over the limit is refused before its credentials are
 * looked up, so it costs no database query.
 *
 * The prefix counter catches one bad key sent from many addresses (a fleet still deployed with a
 * revoked key). Its price: someone who knows a key's prefix (6 random characters, shown in the key
 * list) can make that key's uncached lookups wait out a window; keys a process has already
 * verified keep passing there (see AuthGuard).
 *
 * The limiter protects the database; it must never take the API down: when Redis does not answer
 * (within 250 ms), it lets requests through and says so once in the log.
 */
@Injectable()
export class AuthFailureLimiter implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AuthFailureLimiter.name);
  private readonly redis: LimiterRedis;
  private readonly base: string;
  private failingOpen = false;

  constructor(@Inject(API_CONFIG) private readonly config: ApiConfig) {
    // One slot for a client's counters, which one script reads together: `{auth-failures}`'s on a
    // single server, the prefix's tag on a cluster (`{scw}:{auth-failures}`).
    this.base = `${config.queuePrefix}:{auth-failures}`;
    // No offline queue and a short command timeout: while Redis is away a request waits for
    // nothing, it is let through. Nothing to drain at shutdown either (each request's command
    // was awaited), hence the short disconnect timeout.
    this.redis = createRedisClient(config.redisUrl, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2_000,
      commandTimeout: 250,
      disconnectTimeout: 100,
    }) as LimiterRedis;
    this.redis.on('error', () => undefined);
    this.redis.defineCommand('authFailuresCheck', { lua: CHECK });
    this.redis.defineCommand('authFailuresRecord', { lua: RECORD });
  }

  async onApplicationBootstrap(): Promise<void> {
    // Connected before the first request; when Redis is down the client keeps reconnecting meanwhile.
    await this.redis.connect().catch(() => undefined);
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }

  /** Whole seconds until the client may try again (its Retry-After), or 0 when it is not limited. */
  async retryAfterSeconds(client: AuthClient): Promise<number> {
    const keys = this.keysOf(client);
    const waitMs = await this.guard(() =>
      this.redis.authFailuresCheck(keys.length, ...keys, String(this.config.authFailureLimit), String(this.config.authFailureWindowMs)),
    );
    return waitMs ? Math.max(1, Math.ceil(waitMs / 1_000)) : 0;
  }

  async recordFailure(client: AuthClient): Promise<void> {
    const keys = this.keysOf(client);
    await this.guard(() => this.redis.authFailuresRecord(keys.length, ...keys, String(this.config.authFailureWindowMs)));
  }

  private keysOf(client: AuthClient): string[] {
    const keys = [`${this.base}:address:${client.address}`];
    if (client.keyPrefix) keys.push(`${this.base}:key:${client.keyPrefix}`);
    return keys;
  }

  private async guard(command: () => Promise<number>): Promise<number> {
    try {
      const result = await command();
      if (this.failingOpen) this.logger.log('Redis answers again: failed authentication is rate-limited again.');
      this.failingOpen = false;
      return result;
    } catch (error) {
      if (!this.failingOpen) {
        this.logger.warn(`Redis does not answer (${(error as Error).message}): failed authentication is not rate-limited until it does.`);
      }
      this.failingOpen = true;
      return 0;
    }
  }
}
