import { DynamicModule, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Clock } from '@app/shared/clock/clock';
import { dataSourceOptions } from '@app/shared/database/data-source';
import { NoShowDetector } from '@app/shared/no-show/no-show-detector';
import { WebhooksCoreModule } from '@app/shared/webhooks/webhooks-core.module';
import type { WorkerConfig } from './config/worker-config';
import { WorkerConfigModule } from './config/worker-config.module';
import { DeliveryAttemptsRepository } from './delivery/delivery-attempts.repository';
import { DeliveryDispatcher } from './delivery/delivery-dispatcher';
import { DeliverySweeper } from './delivery/delivery-sweeper';
import { HistoryMaintenanceService } from './delivery/history-maintenance.service';
import { OutboxNotifyListener } from './delivery/outbox-notify.listener';
import { WebhookDeliveryProcessor } from './delivery/webhook-delivery.processor';
import { WorkerMetrics } from './delivery/worker-metrics';
import { WorkerMetricsServer } from './delivery/worker-metrics.server';
import { NoShowScheduler } from './no-show/no-show.scheduler';

/** The worker: no HTTP controllers, only background loops and the queue consumer. */
@Module({})
export class WorkerModule {
  static forRoot(config: WorkerConfig, clock?: Clock): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        WorkerConfigModule.forRoot(config, clock),
        // The worker's writes are delivery bookkeeping (fan-out, claims, attempt log), each redone from
        // durable state if a PostgreSQL crash drops its commit: an event whose fan-out is lost is still
        // undispatched, a lost claim or result leaves the delivery due, so the worst case is a second
        // send of the same event id, which receivers drop as a duplicate. Not waiting for the disk on
        // those commits takes two fsyncs off every delivery's path. Outbox events written here
        // (no-show) still commit synchronously: the detector asks for it per transaction.
        TypeOrmModule.forRoot(dataSourceOptions(config.databaseUrl, config.databasePoolSize, 'scheduled-calls-worker', { asyncCommit: true })),
        EventEmitterModule.forRoot(),
        WebhooksCoreModule.forRoot(config.redisUrl, config.queuePrefix),
      ],
      providers: [
        NoShowDetector,
        NoShowScheduler,
        { provide: WorkerMetrics, useValue: new WorkerMetrics() },
        WorkerMetricsServer,
        DeliveryAttemptsRepository,
        WebhookDeliveryProcessor,
        DeliveryDispatcher,
        DeliverySweeper,
        HistoryMaintenanceService,
        OutboxNotifyListener,
      ],
    };
  }
}
