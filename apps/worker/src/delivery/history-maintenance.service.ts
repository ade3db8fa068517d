import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '@app/shared/clock/clock';
import { HistoryMaintenance, MaintenanceReport } from '@app/shared/database/history-maintenance';
import { WORKER_CONFIG } from '../config/worker-config.module';
import type { WorkerConfig } from '../config/worker-config';
import { PeriodicLoop } from '../periodic-loop';
import { WorkerMetrics } from './worker-metrics';

/**
 * Runs the history maintenance (partitions ahead, expired weeks dropped) at start and then every
 * HISTORY_MAINTENANCE_INTERVAL. Every worker runs it; an advisory lock lets one at a time work.
 */
@Injectable()
export class HistoryMaintenanceService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HistoryMaintenanceService.name);
  readonly maintenance: HistoryMaintenance;
  private readonly loop: PeriodicLoop;

  constructor(
    @InjectDataSource() db: DataSource,
    private readonly clock: Clock,
    private readonly metrics: WorkerMetrics,
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
  ) {
    this.maintenance = new HistoryMaintenance(db, { retentionMs: config.webhooks.retentionMs });
    this.loop = new PeriodicLoop(config.historyMaintenanceIntervalMs, () => this.runOnce());
  }

  onApplicationBootstrap(): void {
    if (this.config.historyMaintenanceIntervalMs > 0) this.loop.start(true);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  /** One pass at the clock's time; never throws (a failed pass is logged and the next one retries). */
  async runOnce(): Promise<MaintenanceReport | undefined> {
    try {
      const report = await this.maintenance.run(this.clock.now());
      this.record(report);
      return report;
    } catch (error) {
      this.metrics.errors.inc({ stage: 'maintenance' });
      this.logger.error(`History maintenance failed; the next pass retries: ${(error as Error).message}`);
      return undefined;
    }
  }

  private record(report: MaintenanceReport): void {
    if (!report.ran) return;
    if (report.created.length > 0) this.logger.log(`History partitions created for the weeks of ${report.created.join(', ')}`);
    if (report.dropped.length > 0) this.logger.log(`History older than the retention removed: the weeks of ${report.dropped.join(', ')}`);
    if (report.deferred.length > 0) this.logger.warn(`Could not drop the weeks of ${report.deferred.join(', ')} yet (tables busy); the next pass retries`);
    let expired = 0;
    for (const [subscriptionId, n] of report.expiredDeliveries) {
      expired += n;
      this.logger.warn(`${n} deliveries of subscription ${subscriptionId} expired undelivered (older than WEBHOOK_RETENTION): ended as failed`);
    }
    this.metrics.expiredDeliveries.inc(expired);
    if (report.expiredEvents > 0) this.logger.warn(`${report.expiredEvents} events expired before they were fanned out`);
    this.metrics.expiredEvents.inc(report.expiredEvents);
    this.metrics.droppedWeeks.inc(report.dropped.length);
  }
}
