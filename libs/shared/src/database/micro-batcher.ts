interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for hot single-row writes: items submitted while earlier batches are in flight are
 * sent together as one statement. Under load this turns N round trips, N commits and N socket
 * writes into one; when idle a batch is a single item sent on the next turn of the event loop.
 *
 * A failed batch of several items is retried item by item, so one bad row fails only its caller.
 */
export class MicroBatcher<I, O> {
  private queue: Array<Pending<I, O>> = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    /** Runs one batch and returns one result per item, in order. */
    private readonly runBatch: (items: I[]) => Promise<O[]>,
    private readonly maxBatch = 100,
    private readonly maxInFlight = 4,
    /** How long a batch stays open for more items (0: until the next turn of the event loop). */
    private readonly windowMs = 0,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0 || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    const flush = () => {
      this.scheduled = false;
      while (this.queue.length > 0 && this.inFlight < this.maxInFlight) this.send(this.queue.splice(0, this.maxBatch));
    };
    if (this.windowMs > 0) setTimeout(flush, this.windowMs);
    else setImmediate(flush);
  }

  private send(batch: Array<Pending<I, O>>): void {
    this.inFlight++;
    this.runBatch(batch.map((p) => p.item))
      .then(
        (results) => batch.forEach((p, i) => p.resolve(results[i])),
        (error: unknown) => {
          if (batch.length === 1) return batch[0].reject(error);
          // Find the culprit: each item alone, so the others still succeed.
          for (const pending of batch) {
            this.runBatch([pending.item]).then(([result]) => pending.resolve(result), pending.reject);
          }
        },
      )
      .finally(() => {
        this.inFlight--;
        this.schedule();
      });
  }
}
