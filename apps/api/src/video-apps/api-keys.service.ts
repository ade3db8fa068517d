import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { AppApiKey } from '@app/shared/entities';

const KEY_PREFIX = 'scw_ak_';
const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 10_000;

/**
 * App API keys: 32 random bytes behind a recognisable prefix (so secret scanners spot leaks),
 * stored as SHA-256 digests. A verified key is cached briefly so authentication costs no query on
 * the hot path.
 */
@Injectable()
export class ApiKeysService {
  private readonly cache = new Map<string, { appId: string; expiresAt: number }>();

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Creates a key for the app inside the caller's transaction; the plain key is returned once. */
  async issue(manager: EntityManager, appId: string, now: Date): Promise<string> {
    const key = KEY_PREFIX + randomBytes(32).toString('base64url');
    await manager.insert(AppApiKey, {
      id: randomUUID(),
      appId,
      keyHash: digest(key),
      keyPrefix: key.slice(0, KEY_PREFIX.length + 6),
      createdAt: now,
      revokedAt: null,
    });
    return key;
  }

  /** The app a key belongs to, or null. */
  async verify(key: string): Promise<string | null> {
    if (!key.startsWith(KEY_PREFIX) || key.length > 128) return null;
    const hash = digest(key);
    const cacheKey = hash.toString('base64');
    const cached = this.cache.get(cacheKey);
    if (cached && cached.expiresAt > Date.now()) return cached.appId;
    const row = await this.db.getRepository(AppApiKey).findOneBy({ keyHash: hash, revokedAt: IsNull() });
    // The lookup is by digest; comparing the digests again in constant time keeps the check
    // independent of how the index compares bytes.
    if (!row || !timingSafeEqual(row.keyHash, hash)) return null;
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(cacheKey, { appId: row.appId, expiresAt: Date.now() + CACHE_TTL_MS });
    return row.appId;
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
