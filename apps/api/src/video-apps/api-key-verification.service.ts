import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { ApiKeyCache, VerifiedKey } from './api-key.cache';
import { digestApiKey, looksLikeApiKey } from './api-key-format';
import { ApiKeyRevocationChannel } from './api-key-revocation.channel';
import { ApiKeyUsageRecorder } from './api-key-usage.recorder';
import { ApiKeysRepository } from './api-keys.repository';

/**
 * Four single-row reads a second per process, whatever the traffic. At this pace two or three polls
 * in a row may be slow or fail before the 1 s bound sends keys back to the database.
 */
const REVOCATION_POLL_MS = 250;

/**
 * Which app a presented key belongs to. Verified keys are cached, so the hot path runs no query;
 * a revoked key stops passing on every API process within 1 s (the rules are in ApiKeyCache):
 * revocations are announced on Redis pub/sub and evicted at once, and every process polls the
 * revocation version in PostgreSQL, which a trigger bumps with each revocation, to catch the
 * announcements it missed.
 */
@Injectable()
export class ApiKeyVerificationService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ApiKeyVerificationService.name);
  private readonly cache = new ApiKeyCache();
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private pollFailing = false;
  private stopped = false;

  constructor(
    private readonly repository: ApiKeysRepository,
    private readonly channel: ApiKeyRevocationChannel,
    private readonly usage: ApiKeyUsageRecorder,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.channel.subscribe(({ keyId, version }) => this.cache.evict(keyId, version));
    await this.pollRevocations();
    this.pollTimer = setInterval(() => void this.pollRevocations(), REVOCATION_POLL_MS);
  }

  /** Before the database pool closes, so no poll runs against it. */
  beforeApplicationShutdown(): void {
    this.stopped = true;
    clearInterval(this.pollTimer);
  }

  /** The key's app if this process verified it recently enough to trust it; costs no query. */
  cached(token: string): VerifiedKey | null {
    if (!looksLikeApiKey(token)) return null;
    const key = this.cache.get(digestApiKey(token).toString('base64')) ?? null;
    if (key) this.usage.record(key.keyId);
    return key;
  }

  /** The key's app, from the cache or from PostgreSQL; null for anything that is not an active key. */
  async verify(token: string): Promise<VerifiedKey | null> {
    if (!looksLikeApiKey(token)) return null;
    const digest = digestApiKey(token);
    const cacheKey = digest.toString('base64');
    const cached = this.cache.get(cacheKey);
    if (cached) {
      this.usage.record(cached.keyId);
      return cached;
    }
    const ticket = this.cache.beginLookup();
    const row = await this.repository.findActiveByDigest(digest);
    // The lookup is by digest; comparing the digests again in constant time keeps the check
    // independent of how the index compares bytes.
    if (!row || !timingSafeEqual(row.digest, digest)) return null;
    const key = { keyId: row.id, appId: row.appId };
    this.cache.put(cacheKey, key, ticket);
    this.usage.record(key.keyId);
    return key;
  }

  /**
   * A key was revoked here: this process stops accepting it before the DELETE answers, the others
   * are told on pub/sub. A failed announcement is logged, not raised: the revoke is committed, and
   * the other processes' polls notice it within the bound.
   */
  async announceRevocation(keyId: string, version: number): Promise<void> {
    this.cache.evict(keyId, version);
    await this.channel.publish({ keyId, version }).catch((error: unknown) => {
      this.logger.warn(
        `Could not announce the revocation of API key ${keyId} on Redis (${(error as Error).message}); other API processes will notice it by polling, within 1 s.`,
      );
    });
  }

  private async pollRevocations(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    const sentAt = this.cache.now();
    try {
      this.cache.confirm(await this.repository.revocationVersion(), sentAt);
      if (this.pollFailing) this.logger.log('Polling the API key revocation version works again.');
      this.pollFailing = false;
    } catch (error) {
      if (this.stopped) return;
      // Keys are then looked up again once a second each, which is what keeps the bound.
      if (!this.pollFailing)
        this.logger.warn(
          `Cannot poll the API key revocation version (${(error as Error).message}); verified keys are re-checked every second until it works again.`,
        );
      this.pollFailing = true;
    } finally {
      this.polling = false;
    }
  }
}
