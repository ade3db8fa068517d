import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { OUTBOX_COMMITTED, OutboxCommittedSignal } from '@app/shared/events/booking-events';
import { NoShowDetector } from '@app/shared/no-show/no-show-detector';
import { WORKER_CONFIG } from '../config/worker-config.module';
import type { WorkerConfig } from '../config/worker-config';

/** Runs the no-show detector every NO_SHOW_INTERVAL; safe with any number of workers at once. */
@Injectable()
export class NoShowScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NoShowScheduler.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly detector: NoShowDetector,
    private readonly events: EventEmitter2,
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => this.schedule());
    }, this.config.noShowIntervalMs);
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
        if (events.length < 500 || this.stopped) return;
      }
    } catch (error) {
      this.logger.error(`No-show pass failed; retrying in ${this.config.noShowIntervalMs} ms: ${(error as Error).message}`);
    }
  }
}
