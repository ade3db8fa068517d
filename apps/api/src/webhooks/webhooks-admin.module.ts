import { Module } from '@nestjs/common';
import { BookingsModule } from '../bookings/bookings.module';
import { HistoryReader } from '../common/history-reader';
import { ScheduledCallDeliveriesController } from './scheduled-call-deliveries.controller';
import { WebhookDeliveriesController } from './webhook-deliveries.controller';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookDeliveriesService } from './webhook-deliveries.service';
import { WebhookStatsService } from './webhook-stats.service';
import { WebhookSubscriptionStateService } from './webhook-subscription-state.service';
import { WebhookSubscriptionsController } from './webhook-subscriptions.controller';
import { WebhookSubscriptionsService } from './webhook-subscriptions.service';
import { WebhookTestSendsService } from './webhook-test-sends.service';

/** The webhook admin API: subscriptions, their state and secrets, test sends, stats and the delivery log. */
@Module({
  imports: [BookingsModule],
  controllers: [ScheduledCallDeliveriesController, WebhookSubscriptionsController, WebhookDeliveriesController],
  providers: [
    HistoryReader,
    WebhookDeliveriesRepository,
    WebhookSubscriptionsService,
    WebhookSubscriptionStateService,
    WebhookDeliveriesService,
    WebhookTestSendsService,
    WebhookStatsService,
  ],
})
export class WebhooksAdminModule {}
