import { DynamicModule, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Clock } from '@app/shared/clock/clock';
import { dataSourceOptions } from '@app/shared/database/data-source';
import { Tracing, TracingModule, TracingOverrides } from '@app/shared/tracing/tracing';
import { WebhooksCoreModule } from '@app/shared/webhooks/webhooks-core.module';
import type { WorkerConfig } from './config/worker-config';
import { WorkerConfigModule } from './config/worker-config.module';
import { DeliveryModule } from './delivery/delivery.module';
import { NoShowModule } from './no-show/no-show.module';

/** The worker: no HTTP controllers, only background loops and the queue consumer, in two feature modules. */
@Module({})
export class WorkerModule {
  static forRoot(config: WorkerConfig, clock?: Clock, tracing?: TracingOverrides): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        WorkerConfigModule.forRoot(config, clock),
        TracingModule.forRoot(() => Tracing.start(config.tracing, tracing)),
        // The worker's writes are delivery bookkeeping (fan-out, claims, attempt log), each redone from
        // durable state if a PostgreSQL crash drops its commit: an event whose fan-out is lost is still
        // undispatched, a lost claim or result leaves the delivery due, so the worst case is a second
        // send of the same event id, which receivers drop as a duplicate. Not waiting for the disk on
        // those commits takes two fsyncs off every delivery's path. Outbox events written here
        // (no-show) still commit synchronously: the detector asks for it per transaction.
        TypeOrmModule.forRoot(dataSourceOptions(config.databaseUrl, config.databasePoolSize, 'scheduled-calls-worker', { asyncCommit: true })),
        EventEmitterModule.forRoot(),
        WebhooksCoreModule.forRoot(config.redisUrl, config.queuePrefix),
        DeliveryModule,
        NoShowModule,
      ],
    };
  }
}
