import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '@app/shared/clock/clock';
import { returningRows } from '@app/shared/database/returning';
import { WebhookSubscription } from '@app/shared/entities';
import { DeliveryQueue, DueAttempt } from '@app/shared/webhooks/delivery-queue';
import { ApiError } from '../common/api-error';
import { RecoverDeliveriesDto, ResumeWebhookSubscriptionDto, WebhookSubscriptionResponse } from './dto/webhook.dto';
import { WebhookSubscriptionsService } from './webhook-subscriptions.service';

/** Pause, resume and recover: the admin's hands on a subscription's flow of deliveries. */
@Injectable()
export class WebhookSubscriptionStateService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly subscriptions: WebhookSubscriptionsService,
    private readonly queue: DeliveryQueue,
    private readonly clock: Clock,
  ) {}

  /** Nothing is sent while paused: waiting deliveries become `held`, new events arrive `held`. */
  async pause(appId: string, id: string): Promise<WebhookSubscriptionResponse> {
    const now = this.clock.now();
    await this.db.transaction(async (manager) => {
      const sub = await manager.findOne(WebhookSubscription, { where: { appId, id }, lock: { mode: 'pessimistic_write' } });
      if (!sub) throw ApiError.notFound('Webhook subscription');
      if (sub.status === 'paused') return;
      await manager.update(WebhookSubscription, { id, appId }, { status: 'paused', pausedReason: 'manual', updatedAt: now });
      await manager.query(
        `UPDATE webhook_deliveries SET status = 'held', next_attempt_at = NULL, updated_at = $2
          WHERE subscription_id = $1 AND status IN ('pending', 'retrying') AND (lease_until IS NULL OR lease_until < $2)`,
        [id, now],
      );
    });
    return this.subscriptions.get(appId, id);
  }

  /** Active again with a clean slate; held deliveries are sent now unless `replay_held` is false. */
  async resume(appId: string, id: string, dto: ResumeWebhookSubscriptionDto): Promise<WebhookSubscriptionResponse> {
    const now = this.clock.now();
    const replay = dto.replay_held ?? true;
    const due = await this.db.transaction(async (manager) => {
      const sub = await manager.findOne(WebhookSubscription, { where: { appId, id }, lock: { mode: 'pessimistic_write' } });
      if (!sub) throw ApiError.notFound('Webhook subscription');
      await manager.update(WebhookSubscription, { id, appId }, {
        status: 'active', pausedReason: null, consecutiveFailures: 0, failingSince: null, updatedAt: now,
      });
      const rows = await manager.query(
        replay
          ? `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $2, next_trigger = 'automatic', updated_at = $2
              WHERE subscription_id = $1 AND status = 'held' RETURNING id, attempt_count`
          : `UPDATE webhook_deliveries SET status = 'failed', updated_at = $2
              WHERE subscription_id = $1 AND status = 'held' RETURNING id, attempt_count`,
        [id, now],
      ).then((result: unknown) => returningRows<{ id: string; attempt_count: number }>(result));
      return replay ? rows.map((row): DueAttempt => ({ deliveryId: row.id, attempt: row.attempt_count + 1 })) : [];
    });
    await this.queue.enqueue(due);
    return this.subscriptions.get(appId, id);
  }

  /** Sends the failed deliveries created since `since` again, each as a manual attempt. */
  async recover(appId: string, id: string, dto: RecoverDeliveriesDto): Promise<{ recovered: number }> {
    const sub = await this.subscriptions.find(appId, id);
    if (sub.status === 'paused') throw ApiError.conflict('subscription_paused', 'The subscription is paused: resume it first, then recover.');
    const now = this.clock.now();
    const since = new Date(dto.since);
    if (since > now) throw ApiError.unprocessable('validation_failed', 'since must not lie in the future.', [{ field: 'since', message: 'since must not lie in the future' }]);
    const rows = await this.db.query(
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3, next_trigger = 'manual', updated_at = $3
        WHERE subscription_id = $1 AND app_id = $4 AND status = 'failed' AND created_at >= $2
        RETURNING id, attempt_count`,
      [id, since, now, appId],
    ).then((result: unknown) => returningRows<{ id: string; attempt_count: number }>(result));
    await this.queue.enqueue(rows.map((row) => ({ deliveryId: row.id, attempt: row.attempt_count + 1 })));
    return { recovered: rows.length };
  }
}
