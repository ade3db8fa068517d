import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ScheduledCallsRepository } from '@app/shared/bookings/scheduled-calls.repository';
import { Clock } from '@app/shared/clock/clock';
import { dataSourceOptions } from '@app/shared/database/data-source';
import { ScheduledCallsController } from './bookings/scheduled-calls.controller';
import { ScheduledCallsService } from './bookings/scheduled-calls.service';
import { ApiValidationPipe } from './common/api-validation.pipe';
import { AuthFailureLimiter } from './common/auth-failure.limiter';
import { AuthGuard } from './common/auth.guard';
import { ProblemDetailsFilter } from './common/problem-details.filter';
import { RequestShapeGuard } from './common/request-shape.guard';
import type { ApiConfig } from './config/api-config';
import { ApiConfigModule } from './config/api-config.module';
import { ConsoleModule } from './console/console.module';
import { HealthController } from './health/health.controller';
import { ApiKeyRevocationChannel } from './video-apps/api-key-revocation.channel';
import { ApiKeyUsageRecorder } from './video-apps/api-key-usage.recorder';
import { ApiKeyVerificationService } from './video-apps/api-key-verification.service';
import { ApiKeysController } from './video-apps/api-keys.controller';
import { ApiKeysRepository } from './video-apps/api-keys.repository';
import { ApiKeysService } from './video-apps/api-keys.service';
import { VideoAppsController } from './video-apps/video-apps.controller';
import { VideoAppsDirectory } from './video-apps/video-apps.directory';
import { VideoAppsService } from './video-apps/video-apps.service';
import { MetricsController } from './webhooks/metrics.controller';
import { ScheduledCallDeliveriesController } from './webhooks/scheduled-call-deliveries.controller';
import { WebhookDeliveriesController } from './webhooks/webhook-deliveries.controller';
import { WebhookDeliveriesService } from './webhooks/webhook-deliveries.service';
import { WebhookSubscriptionStateService } from './webhooks/webhook-subscription-state.service';
import { WebhookSubscriptionsController } from './webhooks/webhook-subscriptions.controller';
import { WebhookStatsService } from './webhooks/webhook-stats.service';
import { WebhookSubscriptionsService } from './webhooks/webhook-subscriptions.service';
import { WebhookTestSendsService } from './webhooks/webhook-test-sends.service';
import { WebhooksCoreModule } from '@app/shared/webhooks/webhooks-core.module';

@Module({})
export class AppModule {
  static forRoot(config: ApiConfig, clock?: Clock): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ApiConfigModule.forRoot(config, clock),
        TypeOrmModule.forRoot(dataSourceOptions(config.databaseUrl, config.databasePoolSize, 'scheduled-calls-api')),
        EventEmitterModule.forRoot({ wildcard: false }),
        ConsoleModule,
        WebhooksCoreModule.forRoot(config.redisUrl, config.queuePrefix),
      ],
      controllers: [HealthController, MetricsController, VideoAppsController, ApiKeysController, ScheduledCallsController,
        ScheduledCallDeliveriesController, WebhookSubscriptionsController, WebhookDeliveriesController],
      providers: [
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: RequestShapeGuard },
        { provide: APP_PIPE, useClass: ApiValidationPipe },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        AuthFailureLimiter,
        ApiKeysRepository,
        ApiKeyRevocationChannel,
        ApiKeyUsageRecorder,
        ApiKeyVerificationService,
        ApiKeysService,
        VideoAppsDirectory,
        VideoAppsService,
        ScheduledCallsRepository,
        ScheduledCallsService,
        WebhookSubscriptionsService,
        WebhookSubscriptionStateService,
        WebhookDeliveriesService,
        WebhookTestSendsService,
        WebhookStatsService,
      ],
    };
  }
}
