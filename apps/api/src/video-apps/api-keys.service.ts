import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '@app/shared/clock/clock';
import { ApiError } from '../common/api-error';
import { creationPosition } from '@app/shared/database/keyset';
import { Page, PageQuery, positionAfter, toPage } from '../common/pagination';
import { apiKeyPrefix, DEFAULT_KEY_NAME, digestApiKey, generateApiKey } from './api-key-format';
import { ApiKeyVerificationService } from './api-key-verification.service';
import { ApiKeyRecord, ApiKeysRepository } from './api-keys.repository';
import { ApiKeyResponse, CreateApiKeyDto, CreatedApiKeyResponse } from './dto/api-key.dto';

/**
 * An app's API keys: 32 random bytes behind a recognisable prefix, stored as SHA-256 digests, the
 * key itself shown once. An app may hold several (to rotate: create, deploy, revoke the old one).
 *
 * Revoking the app's last active key is allowed, by the app itself too: revocation is the brake
 * for a leaked key and must work in one call. The app then needs the operator, who can always
 * create a key for it (POST /v1/apps/{appId}/api-keys with the operator token).
 */
@Injectable()
export class ApiKeysService {
  private readonly logger = new Logger(ApiKeysService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly repository: ApiKeysRepository,
    private readonly verification: ApiKeyVerificationService,
    private readonly clock: Clock,
  ) {}

  /** Creates a key for the app inside the caller's transaction; the plain key is returned once. */
  async issue(manager: EntityManager, appId: string, now: Date, name: string | null = DEFAULT_KEY_NAME): Promise<{ key: string; record: ApiKeyRecord }> {
    const key = generateApiKey();
    const record = await this.repository.insert(manager, {
      id: randomUUID(),
      appId,
      name,
      digest: digestApiKey(key),
      prefix: apiKeyPrefix(key) as string,
      createdAt: now,
    });
    // An audit line: the key's id, never the key.
    this.logger.log(`API key ${record.id} issued for app ${appId}`);
    return { key, record };
  }

  async create(appId: string, dto: CreateApiKeyDto): Promise<CreatedApiKeyResponse> {
    const { key, record } = await this.issue(this.db.manager, appId, this.clock.now(), dto.name ?? null);
    return { ...ApiKeyResponse.from(record), api_key: key };
  }

  async list(appId: string, query: PageQuery): Promise<Page<ApiKeyResponse>> {
    const limit = query.limit ?? 20;
    const records = await this.repository.listForApp(appId, limit + 1, positionAfter(query));
    return toPage(records, limit, ApiKeyResponse.from, creationPosition);
  }

  /** Idempotent: revoking a revoked key answers the same. Another app's key is not found. */
  async revoke(appId: string, keyId: string): Promise<void> {
    const outcome = await this.repository.revoke(appId, keyId, this.clock.now());
    if (outcome.kind === 'not_found') throw ApiError.notFound('API key');
    if (outcome.kind === 'revoked') {
      this.logger.log(`API key ${keyId} of app ${appId} revoked`);
      await this.verification.announceRevocation(keyId, outcome.version);
    }
  }
}
