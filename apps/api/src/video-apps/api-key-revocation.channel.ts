import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { RedisClient } from '@app/shared/redis/redis-connection';
import { consumerConnection, producerConnection } from '@app/shared/webhooks/queue-connection';
import { API_CONFIG } from '../config/api-config.module';
import type { ApiConfig } from '../config/api-config';

export interface RevocationMessage {
  keyId: string;
  /** The revocation version the revoke produced, so a poll can tell announced revocations from missed ones. */
  version: number;
}

/**
 * Redis pub/sub between API processes: "this key was revoked". The fast path only; a lost message
 * (a reconnecting subscriber, Redis down) is caught by each process's poll of the revocation
 * version in PostgreSQL, within a second.
 */
@Injectable()
export class ApiKeyRevocationChannel implements OnApplicationShutdown {
  readonly name: string;
  private readonly publisher: RedisClient;
  private subscriber: RedisClient | undefined;

  constructor(@Inject(API_CONFIG) private readonly config: ApiConfig) {
    this.name = `${config.queuePrefix}:api-keys:revoked`;
    // Fails fast while Redis is down: a revoke never waits on Redis (the poll covers it).
    this.publisher = producerConnection(config.redisUrl);
    this.publisher.on('error', () => undefined);
  }

  async publish(message: RevocationMessage): Promise<void> {
    await this.publisher.publish(this.name, JSON.stringify(message));
  }

  /** Calls `listener` for every revocation any process announces, this one included. */
  subscribe(listener: (message: RevocationMessage) => void): void {
    // Reconnects and re-subscribes by itself (autoResubscribe; on a cluster, to another node if its
    // node is gone, and a PUBLISH reaches every node); what it misses meanwhile the poll catches.
    this.subscriber ??= consumerConnection(this.config.redisUrl);
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (channel: string, raw: string) => {
      const message = parse(raw);
      if (channel === this.name && message) listener(message);
    });
    void this.subscriber.subscribe(this.name).catch(() => undefined);
  }

  onApplicationShutdown(): void {
    this.publisher.disconnect();
    this.subscriber?.disconnect();
  }
}

function parse(raw: string): RevocationMessage | null {
  try {
    const value = JSON.parse(raw) as Partial<RevocationMessage>;
    return typeof value.keyId === 'string' && Number.isSafeInteger(value.version) ? (value as RevocationMessage) : null;
  } catch {
    return null;
  }
}
