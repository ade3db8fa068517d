import type { ApifyCloudWebhookEvent } from '../../src/index.js';

/**
 * Records what the application's handler saw, and can hold the handler open until the test lets it
 * go: that is how a duplicate is made to race the original without any sleep.
 */
export class HandlerProbe {
  readonly events: ApifyCloudWebhookEvent[] = [];
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;
  #entered: Array<() => void> = [];
  failNext: 'throw' | 503 | undefined;

  /** The next handler calls wait until `release()`. */
  hold(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }

  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }

  /** Resolves when the handler has been entered `count` times in total. */
  entered(count = 1): Promise<void> {
    if (this.events.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#entered.push(() => this.events.length >= count && resolve()));
  }

  /** Call from the application's handler; resolves to how it should answer. */
  async handle(event: ApifyCloudWebhookEvent): Promise<'ok' | 'throw' | 503> {
    this.events.push(event);
    for (const notify of this.#entered) notify();
    if (this.#gate) await this.#gate;
    const fail = this.failNext;
    this.failNext = undefined;
    return fail ?? 'ok';
  }
}
