import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '@app/shared/clock/clock';
import { DeliveryQueue } from '@app/shared/webhooks/delivery-queue';
import { applyHealthEvent } from '@app/shared/webhooks/subscription-health.repository';
import { ApiError } from '../common/api-error';
import { API_CONFIG } from '../config/api-config.module';
import type { ApiConfig } from '../config/api-config';
import { RecoverDeliveriesDto, ResumeWebhookSubscriptionDto, WebhookSubscriptionResponse } from './dto/webhook.dto';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookSubscriptionsService } from './webhook-subscriptions.service';

/** Pause, resume and recover: the admin's hands on a subscription's flow of deliveries. */
@Injectable()
export class WebhookSubscriptionStateService {
  private readonly logger = new Logger(WebhookSubscriptionStateService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly subscriptions: WebhookSubscriptionsService,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly queue: DeliveryQueue,
    private readonly clock: Clock,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  /** Nothing is sent while paused: waiting deliveries become `held`, new events arrive `held`. */
  async pause(appId: string, id: string): Promise<WebhookSubscriptionResponse> {
    const now = this.clock.now();
    await this.db.transaction(async (manager) => {
      const transition = await applyHealthEvent(manager, id, { type: 'paused' }, now, this.config.webhooks, appId);
      if (!transition) throw ApiError.notFound('Webhook subscription');
    });
    return this.subscriptions.get(appId, id);
  }

  /** Active again with a clean slate (circuit closed); held deliveries are sent now unless `replay_held` is false. */
  async resume(appId: string, id: string, dto: ResumeWebhookSubscriptionDto): Promise<WebhookSubscriptionResponse> {
    const now = this.clock.now();
    const replay = dto.replay_held ?? true;
    const { due, circuitClosed } = await this.db.transaction(async (manager) => {
      const transition = await applyHealthEvent(manager, id, { type: 'resumed' }, now, this.config.webhooks, appId);
      if (!transition) throw ApiError.notFound('Webhook subscription');
      if (!replay) await this.deliveries.failHeld(manager, id, now);
      return { due: replay ? await this.deliveries.releaseHeld(manager, id, now) : [], circuitClosed: transition.circuitChanged };
    });
    if (circuitClosed) {
      await this.queue.scheduler
        .setCircuit(id, null)
        .catch((error: Error) => this.logger.warn(`Could not close the scheduler's circuit of ${id} (${error.message}); it probes once its cool-down is over`));
    }
    await this.queue.enqueue(due);
    return this.subscriptions.get(appId, id);
  }

  /** Sends the failed deliveries of events since `since` again, each as a manual attempt. */
  async recover(appId: string, id: string, dto: RecoverDeliveriesDto): Promise<{ recovered: number }> {
    const sub = await this.subscriptions.find(appId, id);
    if (sub.status === 'paused') throw ApiError.conflict('subscription_paused', 'The subscription is paused: resume it first, then recover.');
    const now = this.clock.now();
    const since = new Date(dto.since);
    if (since > now)
      throw ApiError.unprocessable('validation_failed', 'since must not lie in the future.', [{ field: 'since', message: 'since must not lie in the future' }]);
    const due = await this.deliveries.recoverFailed(appId, id, since, now, sub.rateLimitPerSecond);
    await this.queue.enqueue(due);
    return { recovered: due.length };
  }
}
