import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Clock } from '@app/shared/clock/clock';
import { WebhookDelivery, WebhookSubscription } from '@app/shared/entities';
import { DeliveryQueue } from '@app/shared/webhooks/delivery-queue';
import { generateWebhookSecret, SecretBox } from '@app/shared/webhooks/secret-box';
import { ForbiddenUrlError, parseSubscriberUrl, resolveAllowedAddresses } from '@app/shared/webhooks/ssrf-guard';
import { ApiError } from '../common/api-error';
import { creationPosition, newestFirst } from '@app/shared/database/keyset';
import { Page, PageQuery, positionAfter, toPage } from '../common/pagination';
import { API_CONFIG } from '../config/api-config.module';
import type { ApiConfig } from '../config/api-config';
import {
  CreateWebhookSubscriptionDto,
  RotateSecretDto,
  UpdateWebhookSubscriptionDto,
  WebhookSubscriptionResponse,
  WebhookSubscriptionWithSecretResponse,
} from './dto/webhook.dto';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { toSubscriptionResponse } from './webhook-responses';

const DEFAULT_GRACE_SECONDS = 86_400;

/** Subscriptions: create, read, change, delete, rotate the secret. Every query carries the app. */
@Injectable()
export class WebhookSubscriptionsService {
  private readonly logger = new Logger(WebhookSubscriptionsService.name);
  private readonly secrets: SecretBox;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly queue: DeliveryQueue,
    private readonly deliveries: WebhookDeliveriesRepository,
  ) {
    this.secrets = new SecretBox(config.secretsKey);
  }

  async create(appId: string, dto: CreateWebhookSubscriptionDto): Promise<WebhookSubscriptionWithSecretResponse> {
    const url = await this.checkUrl(dto.url);
    const now = this.clock.now();
    const id = randomUUID();
    const secret = generateWebhookSecret();
    const sub: WebhookSubscription = {
      id,
      appId,
      url,
      events: normaliseEvents(dto.events),
      description: dto.description ?? null,
      status: 'active',
      pausedReason: null,
      secretCiphertext: this.secrets.seal(secret, id),
      previousSecretCiphertext: null,
      previousSecretExpiresAt: null,
      consecutiveFailures: 0,
      failingSince: null,
      rateLimitPerSecond: dto.rate_limit_per_second ?? null,
      circuitState: 'closed',
      circuitFailures: 0,
      circuitOpenCount: 0,
      circuitRetryAt: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.db.getRepository(WebhookSubscription).insert(sub);
    // Audit lines name the endpoint by its origin: a URL's path or query may carry a token of the receiver's.
    this.logger.log(`Subscription ${id} of app ${appId} created for ${new URL(url).origin}`);
    return { ...this.toResponse(sub, null, 0), secret };
  }

  async list(appId: string, query: PageQuery): Promise<Page<WebhookSubscriptionResponse>> {
    const limit = query.limit ?? 20;
    const builder = this.db.getRepository(WebhookSubscription).createQueryBuilder('sub').where('sub.appId = :appId', { appId });
    const subs = await newestFirst(builder, 'createdAt', limit + 1, positionAfter(query)).getMany();
    const [last, held] = await Promise.all([this.deliveries.lastDeliveries(subs.map((s) => s.id)), this.deliveries.heldCounts(subs.map((s) => s.id))]);
    return toPage(subs, limit, (sub) => this.toResponse(sub, last.get(sub.id) ?? null, held.get(sub.id) ?? 0), creationPosition);
  }

  async get(appId: string, id: string): Promise<WebhookSubscriptionResponse> {
    return this.toFullResponse(await this.find(appId, id));
  }

  async update(appId: string, id: string, dto: UpdateWebhookSubscriptionDto): Promise<WebhookSubscriptionResponse> {
    const sub = await this.find(appId, id);
    const changes: Partial<WebhookSubscription> = {};
    if (dto.url !== undefined) changes.url = await this.checkUrl(dto.url);
    if (dto.events !== undefined) changes.events = normaliseEvents(dto.events);
    if (dto.description !== undefined) changes.description = dto.description;
    if (dto.rate_limit_per_second !== undefined) changes.rateLimitPerSecond = dto.rate_limit_per_second;
    if (Object.keys(changes).length > 0) {
      await this.db.getRepository(WebhookSubscription).update({ id: sub.id, appId }, { ...changes, updatedAt: this.clock.now() });
    }
    if (dto.rate_limit_per_second !== undefined) {
      // At once for deliveries already waiting; if Redis is down the next offer (or sweep) carries it.
      await this.queue.scheduler.setRateLimit(id, dto.rate_limit_per_second).catch(() => undefined);
    }
    return this.get(appId, id);
  }

  async remove(appId: string, id: string): Promise<void> {
    const result = await this.db.getRepository(WebhookSubscription).delete({ id, appId });
    if (!result.affected) throw ApiError.notFound('Webhook subscription');
    this.logger.log(`Subscription ${id} of app ${appId} deleted`);
  }

  /**
   * A new secret now; the retired one keeps signing (X-ApifyCloud-Signature-Previous) for the
   * grace period, so receivers can switch without dropping a delivery. Only one previous secret is
   * kept: a second rotation replaces it with the one it retires.
   */
  async rotateSecret(appId: string, id: string, dto: RotateSecretDto): Promise<WebhookSubscriptionWithSecretResponse> {
    const graceSeconds = dto.grace_period_seconds ?? DEFAULT_GRACE_SECONDS;
    const secret = generateWebhookSecret();
    const now = this.clock.now();
    const updated = await this.db.transaction(async (manager) => {
      // NO KEY, so deliveries being fanned out (KEY SHARE on the subscription) do not wait for it.
      const sub = await manager.findOne(WebhookSubscription, { where: { id, appId }, lock: { mode: 'for_no_key_update' } });
      if (!sub) throw ApiError.notFound('Webhook subscription');
      const next: WebhookSubscription = {
        ...sub,
        secretCiphertext: this.secrets.seal(secret, id),
        previousSecretCiphertext: graceSeconds > 0 ? sub.secretCiphertext : null,
        previousSecretExpiresAt: graceSeconds > 0 ? new Date(now.getTime() + graceSeconds * 1000) : null,
        updatedAt: now,
      };
      await manager.update(
        WebhookSubscription,
        { id, appId },
        {
          secretCiphertext: next.secretCiphertext,
          previousSecretCiphertext: next.previousSecretCiphertext,
          previousSecretExpiresAt: next.previousSecretExpiresAt,
          updatedAt: now,
        },
      );
      return next;
    });
    this.logger.log(`Secret of subscription ${id} of app ${appId} rotated; the previous one signs too for ${graceSeconds} s`);
    return { ...(await this.toFullResponse(updated)), secret };
  }

  async find(appId: string, id: string): Promise<WebhookSubscription> {
    const sub = await this.db.getRepository(WebhookSubscription).findOneBy({ appId, id });
    if (!sub) throw ApiError.notFound('Webhook subscription');
    return sub;
  }

  private async toFullResponse(sub: WebhookSubscription): Promise<WebhookSubscriptionResponse> {
    const [last, held] = await Promise.all([this.deliveries.lastDeliveries([sub.id]), this.deliveries.heldCounts([sub.id])]);
    return this.toResponse(sub, last.get(sub.id) ?? null, held.get(sub.id) ?? 0);
  }

  private toResponse(sub: WebhookSubscription, lastDelivery: WebhookDelivery | null, heldCount: number): WebhookSubscriptionResponse {
    return toSubscriptionResponse(sub, { lastDelivery, heldCount, rules: this.config.webhooks, now: this.clock.now() });
  }

  private async checkUrl(raw: string): Promise<string> {
    const options = { allowPrivate: this.config.webhooks.allowPrivateUrls };
    try {
      const url = parseSubscriberUrl(raw, options);
      await resolveAllowedAddresses(url.hostname, options);
      return url.toString();
    } catch (error) {
      if (error instanceof ForbiddenUrlError) throw ApiError.unprocessable(error.code, error.message, [{ field: 'url', message: error.message }]);
      throw error;
    }
  }
}

/** ["*"] stands alone: "*" next to named types is refused rather than guessed at. */
function normaliseEvents(events: string[]): string[] {
  if (events.includes('*') && events.length > 1) {
    throw ApiError.unprocessable('validation_failed', 'events must be ["*"] or a list of event types, not both', [
      { field: 'events', message: 'use ["*"] alone' },
    ]);
  }
  return events;
}
