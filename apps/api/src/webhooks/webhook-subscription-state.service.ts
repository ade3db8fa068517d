import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '@app/shared/clock/clock';
import { returningRows } from '@app/shared/database/returning';
import { DeliveryQueue, DueAttempt } from '@app/shared/webhooks/delivery-queue';
import { applyHealthEvent } from '@app/shared/webhooks/subscription-health.repository';
import { ApiError } from '../common/api-error';
import { API_CONFIG } from '../config/api-config.module';
import type { ApiConfig } from '../config/api-config';
import { RecoverDeliveriesDto, ResumeWebhookSubscriptionDto, WebhookSubscriptionResponse } from './dto/webhook.dto';
import { WebhookSubscriptionsService } from './webhook-subscriptions.service';

/** Pause, resume and recover: the admin's hands on a subscription's flow of deliveries. */
@Injectable()
export class WebhookSubscriptionStateService {
  private readonly logger = new Logger(WebhookSubscriptionStateService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly subscriptions: WebhookSubscriptionsService,
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
      const rows = returningRows<{ id: string; attempt_count: number; rate_limit_per_second: number | null }>(await manager.query(
        replay
          ? `UPDATE webhook_deliveries d SET status = 'pending', next_attempt_at = $2, next_trigger = 'automatic', updated_at = $2
               FROM webhook_subscriptions s
              WHERE d.subscription_id = $1 AND d.status = 'held' AND s.id = d.subscription_id
              RETURNING d.id, d.attempt_count, s.rate_limit_per_second`
          : `UPDATE webhook_deliveries SET status = 'failed', updated_at = $2
              WHERE subscription_id = $1 AND status = 'held' RETURNING id, attempt_count, NULL::int AS rate_limit_per_second`,
        [id, now],
      ));
      const attempts = rows.map((row): DueAttempt => ({ deliveryId: row.id, subscriptionId: id, attempt: row.attempt_count + 1, rateLimitPerSecond: row.rate_limit_per_second }));
      return { due: replay ? attempts : [], circuitClosed: transition.circuitChanged };
    });
    if (circuitClosed) {
      await this.queue.scheduler.setCircuit(id, null).catch((error: Error) =>
        this.logger.warn(`Could not close the scheduler's circuit of ${id} (${error.message}); it probes once its cool-down is over`));
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
    if (since > now) throw ApiError.unprocessable('validation_failed', 'since must not lie in the future.', [{ field: 'since', message: 'since must not lie in the future' }]);
    const rows = returningRows<{ id: string; attempt_count: number }>(await this.db.query(
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3, next_trigger = 'manual', updated_at = $3
        WHERE subscription_id = $1 AND app_id = $4 AND status = 'failed' AND event_at >= date_trunc('milliseconds', $2::timestamptz)
          AND next_trigger <> 'test'
        RETURNING id, attempt_count`,
      [id, since, now, appId],
    ));
    await this.queue.enqueue(rows.map((row) => ({ deliveryId: row.id, subscriptionId: id, attempt: row.attempt_count + 1, rateLimitPerSecond: sub.rateLimitPerSecond })));
    return { recovered: rows.length };
  }
}
