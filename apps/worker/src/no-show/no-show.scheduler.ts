import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { OUTBOX_COMMITTED, OutboxCommittedSignal } from '@app/shared/events/booking-events';
import { NoShowDetector } from '@app/shared/no-show/no-show-detector';
import { WORKER_CONFIG } from '../config/worker-config.module';
import type { WorkerConfig } from '../config/worker-config';
import { PeriodicLoop } from '../periodic-loop';

/** Runs the no-show detector every NO_SHOW_INTERVAL; safe with any number of workers at once. */
@Injectable()
export class NoShowScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NoShowScheduler.name);
  private readonly loop: PeriodicLoop;

  constructor(
    private readonly detector: NoShowDetector,
    private readonly events: EventEmitter2,
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
  ) {
    this.loop = new PeriodicLoop(config.noShowIntervalMs, () => this.tick());
  }

  onApplicationBootstrap(): void {
    this.loop.start(false);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  private async tick(): Promise<void> {
    try {
      // Drain: keep going while full batches come back, so a backlog clears in one tick.
      for (;;) {
        const events = await this.detector.runOnce();
        if (events.length > 0) {
          this.logger.log(`Marked ${events.length} call(s) as no-show`);
          const signal: OutboxCommittedSignal = { events };
          this.events.emit(OUTBOX_COMMITTED, signal);
        }
        if (events.length < 500 || this.loop.isStopped) return;
      }
    } catch (error) {
      this.logger.error(`No-show pass failed; retrying in ${this.config.noShowIntervalMs} ms: ${(error as Error).message}`);
    }
  }
}
