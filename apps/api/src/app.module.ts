import { DynamicModule, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Clock } from '@app/shared/clock/clock';
import { dataSourceOptions } from '@app/shared/database/data-source';
import { Tracing, TracingModule } from '@app/shared/tracing/tracing';
import { WebhooksCoreModule } from '@app/shared/webhooks/webhooks-core.module';
import { BookingsModule } from './bookings/bookings.module';
import { HttpPipelineModule } from './common/http-pipeline.module';
import type { ApiConfig } from './config/api-config';
import { ApiConfigModule } from './config/api-config.module';
import { ConsoleModule } from './console/console.module';
import { HealthModule } from './health/health.module';
import { VideoAppsModule } from './video-apps/video-apps.module';
import { WebhooksAdminModule } from './webhooks/webhooks-admin.module';

/**
 * The API app: the infrastructure every feature shares (configuration and clock, the database, the
 * event emitter, the webhook queue; all global), the request pipeline, and one module per feature.
 */
@Module({})
export class AppModule {
  /** `tracing` is started before the app, whose HTTP server hooks need it (api-app.ts); off when absent. */
  static forRoot(config: ApiConfig, clock?: Clock, tracing: Tracing = Tracing.disabled): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ApiConfigModule.forRoot(config, clock),
        TracingModule.forRoot(() => tracing),
        TypeOrmModule.forRoot(dataSourceOptions(config.databaseUrl, config.databasePoolSize, 'scheduled-calls-api')),
        EventEmitterModule.forRoot({ wildcard: false }),
        WebhooksCoreModule.forRoot(config.redisUrl, config.queuePrefix),
        HttpPipelineModule,
        HealthModule,
        VideoAppsModule,
        BookingsModule,
        WebhooksAdminModule,
        ConsoleModule,
      ],
    };
  }
}
