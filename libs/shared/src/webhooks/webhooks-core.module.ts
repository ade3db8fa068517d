import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import type { ConnectionOptions } from 'bullmq';
import { DELIVERY_QUEUE, DeliveryQueue } from './delivery-queue';
import { DeliveryScheduler } from './delivery-scheduler';
import { OutboxWakeupListener } from './outbox-wakeup.listener';
import { producerConnection } from './queue-connection';
import { WebhookFanOut } from './webhook-fan-out.service';

/** What both apps share of webhooks: the queue (producer side) and the outbox fan-out. */
@Module({})
export class WebhooksCoreModule {
  static forRoot(redisUrl: string, queuePrefix: string): DynamicModule {
    return {
      module: WebhooksCoreModule,
      imports: [
        BullModule.forRoot({ connection: producerConnection(redisUrl) as ConnectionOptions, prefix: queuePrefix }),
        BullModule.registerQueue({ name: DELIVERY_QUEUE }),
      ],
      providers: [
        { provide: DeliveryScheduler, useFactory: () => new DeliveryScheduler(producerConnection(redisUrl), queuePrefix) },
        DeliveryQueue, WebhookFanOut, OutboxWakeupListener,
      ],
      exports: [DeliveryQueue, DeliveryScheduler, WebhookFanOut],
    };
  }
}
