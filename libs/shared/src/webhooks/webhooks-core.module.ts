import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import { DELIVERY_QUEUE, DeliveryQueue } from './delivery-queue';
import { DeliveryScheduler } from './delivery-scheduler';
import { OutboxWakeupListener } from './outbox-wakeup.listener';
import { producerConnection } from './queue-connection';
import { WebhookFanOut } from './webhook-fan-out.service';

/** What both apps share of webhooks: the queue (producer side) and the outbox fan-out. */
@Module({})
export class WebhooksCoreModule {
  /** `queuePrefix` is the configured one, hash-tagged on a cluster (`{scw}`), which BullMQ needs there: one slot per queue. */
  static forRoot(redisUrl: string, queuePrefix: string): DynamicModule {
    return {
      module: WebhooksCoreModule,
      // Infrastructure, like the database: every feature module of either app may inject the queue.
      global: true,
      imports: [
        // Connections are made when the providers are built (never in Nest's preview mode, which
        // writes the OpenAPI document). BullMQ leaves a connection it was given open: the queue
        // disconnects it at shutdown.
        BullModule.registerQueueAsync({
          name: DELIVERY_QUEUE,
          useFactory: () => ({ connection: producerConnection(redisUrl), prefix: queuePrefix, forceDisconnectOnShutdown: true }),
        }),
      ],
      providers: [
        { provide: DeliveryScheduler, useFactory: () => new DeliveryScheduler(producerConnection(redisUrl), queuePrefix) },
        DeliveryQueue,
        WebhookFanOut,
        OutboxWakeupListener,
      ],
      exports: [DeliveryQueue, DeliveryScheduler, WebhookFanOut],
    };
  }
}
