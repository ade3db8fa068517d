/**
 * A background pass run every `intervalMs`, one at a time: the next is scheduled when the previous
 * one has finished, so a slow pass never overlaps itself. `pass` must not throw (log instead).
 */
export class PeriodicLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly pass: () => Promise<unknown>,
  ) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Starts the loop: with a pass right away, or after the first interval. */
  start(runNow: boolean): void {
    if (runNow) this.running = this.pass().finally(() => this.schedule());
    else this.schedule();
  }

  /** Stops scheduling passes and waits for the one in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Resolves once the pass in progress (if any) is over. */
  async idle(): Promise<void> {
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass().finally(() => this.schedule());
    }, this.intervalMs);
  }
}
