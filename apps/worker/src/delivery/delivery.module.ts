import { Module } from '@nestjs/common';
import { DeliveryAttemptsRepository } from './delivery-attempts.repository';
import { DeliveryDispatcher } from './delivery-dispatcher';
import { DeliverySweepRepository } from './delivery-sweep.repository';
import { DeliverySweeper } from './delivery-sweeper';
import { HistoryMaintenanceService } from './history-maintenance.service';
import { OutboxNotifyListener } from './outbox-notify.listener';
import { WebhookDeliveryProcessor } from './webhook-delivery.processor';
import { WorkerMetrics } from './worker-metrics';
import { WorkerMetricsServer } from './worker-metrics.server';

/**
 * Webhook delivery: the fair dispatcher and the processor that sends, the sweeper, the LISTEN
 * wake-up, the history maintenance, and the worker's metrics (registered here, served on their port).
 */
@Module({
  providers: [
    // One registry per application (tests run several workers in one process).
    { provide: WorkerMetrics, useFactory: () => new WorkerMetrics() },
    WorkerMetricsServer,
    DeliveryAttemptsRepository,
    WebhookDeliveryProcessor,
    DeliveryDispatcher,
    DeliverySweepRepository,
    DeliverySweeper,
    HistoryMaintenanceService,
    OutboxNotifyListener,
  ],
  exports: [WorkerMetrics],
})
export class DeliveryModule {}
